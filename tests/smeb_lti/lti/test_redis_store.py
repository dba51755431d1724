"""With SMEB_REDIS_URL the states, nonces and caches live in a real Redis server, still single-use across workers."""

from __future__ import annotations

from typing import Any

from smeb_lti.lti.services import lti_services
from smeb_lti.lti.storage import RedisStore
from tests.smeb_lti.lti.conftest import (
    Lms,
    launch_id_of,
    register,
    stored_launches,
)
from tests.support.app import make_app
from tests.support.lti_platform import PlatformSim


def test_the_redis_store_consumes_a_value_exactly_once(redis_url: str) -> None:
    one, two = RedisStore(redis_url), RedisStore(redis_url)
    try:
        one.put("n-1", {"v": 1}, 60)
        assert two.get("n-1") == {"v": 1}
        assert two.consume("n-1") == {"v": 1}
        assert one.consume("n-1") is None and one.get("n-1") is None
        assert one.add("gate", True, 60) is True and two.add("gate", True, 60) is False
    finally:
        one.delete("gate")
        one.close()
        two.close()


def test_launches_work_and_replays_fail_across_workers_with_redis(tool_config: dict[str, Any], platform: PlatformSim, redis_url: str) -> None:
    config = {**tool_config, "SMEB_REDIS_URL": redis_url}
    worker_1, worker_2 = make_app(**config), make_app(**config)
    try:
        assert isinstance(lti_services(worker_1).store, RedisStore)
        register(worker_1, platform)
        lms = Lms(worker_1, platform)
        login = lms.login(worker_1.test_client())
        token = lms.id_token(login.nonce)
        browser = worker_2.test_client()
        browser.set_cookie("lti_state_" + login.state, login.state, path="/lti/")
        launch_id_of(lms.post_launch(browser, login.state, token))
        replay = worker_1.test_client()
        replay.set_cookie("lti_state_" + login.state, login.state, path="/lti/")
        response = lms.post_launch(replay, login.state, token)
        assert response.status_code == 401 and "already used" in response.get_data(as_text=True)
        assert stored_launches(worker_1) == 1
        # nothing of the flow went to the database's key-value table
        from sqlalchemy import func, select

        from smeb_lti.lti.storage import KvEntry

        with worker_1.extensions["smeb.sessions"]() as session:
            assert session.scalar(select(func.count()).select_from(KvEntry)) == 0
    finally:
        for app in (worker_1, worker_2):
            app.extensions["smeb.engine"].dispose()


