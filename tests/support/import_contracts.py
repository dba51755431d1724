"""An import-linter contract type the built-in ones cannot express: "imports nothing of X but these".

The embedded LRS and the demo LMS may use only the tool's shared kernel (db, settings, errors, web);
a ``forbidden`` contract would have to list every other part of ``smeb_lti`` and would silently stop
covering a part added later. This contract names what is allowed instead, and follows imports
transitively: reaching a forbidden module through the kernel breaks it too.
Registered in pyproject.toml under ``[tool.importlinter] contract_types``.
"""

from __future__ import annotations

from collections import deque

import grimp
from importlinter import Contract, ContractCheck, fields, output


def _within(module: str, packages: set[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


class AllowedImportsContract(Contract):
    """Each of ``source_modules`` may reach, inside ``package``, only itself and ``allowed_modules``."""

    type_name = "allowed_imports"

    source_modules = fields.ListField(subfield=fields.StringField())
    package = fields.StringField()
    allowed_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        sources: list[str] = list(self.source_modules)  # type: ignore[call-overload]  # fields are descriptors
        package: str = str(self.package)
        allowed = set(self.allowed_modules)  # type: ignore[call-overload]  # fields are descriptors
        modules = graph.modules
        broken: list[dict[str, object]] = []
        for source in sources:
            if source not in modules:
                broken.append({"source": source, "missing": True})
                continue
            permitted = allowed | {source}
            # Breadth first over the imports from the source's modules: the first chain found to each module is a shortest one.
            start = {source} | graph.find_descendants(source)
            came_from: dict[str, str | None] = dict.fromkeys(start)
            queue = deque(sorted(start))
            while queue:
                module = queue.popleft()
                for imported in sorted(graph.find_modules_directly_imported_by(module)):
                    if imported not in came_from:
                        came_from[imported] = module
                        queue.append(imported)
            # Name the part reached (smeb_lti.courses), not each of its modules; show one chain to it.
            depth = package.count(".") + 2
            parts: dict[str, str] = {}
            for module in sorted(came_from):
                if _within(module, {package}) and not _within(module, permitted):
                    parts.setdefault(".".join(module.split(".")[:depth]), module)
            for part, module in sorted(parts.items()):
                chain = [module]
                while (previous := came_from[chain[-1]]) is not None:
                    chain.append(previous)
                broken.append({"source": source, "imported": part, "chain": chain[::-1]})
        return ContractCheck(kept=not broken, warnings=[], metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            if item.get("missing"):
                output.print_error(f"{item['source']} is not a module (contract out of date?)", bold=False)
                continue
            output.print_error(f"{item['source']} reaches {item['imported']}:", bold=False)
            output.indent_cursor()
            output.print_error(" -> ".join(item["chain"]), bold=False)
            output.new_line()
