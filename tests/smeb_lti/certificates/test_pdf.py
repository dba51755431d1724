"""The PDF: names beyond Latin-1 in the text, the font embedded, tagged, the QR code decodes to the URL."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from smeb_lti.certificates.openbadges import ATTACHMENT_NAME
from smeb_lti.certificates.verify import read_pdf, verify_qr_url
from tests.smeb_lti.certificates.conftest import make_certificate

NAMES = ["Åse Ødegård Ærlig", "Đorđe Šćepanović", "Dương Văn Thành", "Žaneta Łukasiewicz-Ŋuolla"]


@pytest.fixture(scope="module")
def name_pdfs(key) -> dict[str, bytes]:
    return {name: make_certificate(key, learner=name).pdf() for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_names_beyond_latin_1_appear_in_the_pdf_text(name: str, name_pdfs: dict[str, bytes]) -> None:
    text = read_pdf(name_pdfs[name]).text
    assert name in text
    assert "Fra stille feil til smart kvalitet" in text
    assert "21. november 2026" in text and "1 t 30 min" in text
    assert "Psykologisk trygghet" in text and "Bedriftshelsetjenesten Vest AS" in text


def test_the_font_is_embedded_as_a_subset(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts, "the page uses no fonts"
    for font in fonts.values():
        font = font.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"
        assert "+" in str(font["/BaseFont"]), "a subset font's name carries a 6-letter tag and '+'"
        assert "/ToUnicode" in font, "without ToUnicode, copy/paste and screen readers get garbage"


def test_the_pdf_is_tagged_with_language_and_title(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "nb"
    assert reader.metadata is not None and reader.metadata.title.startswith("Kursbevis")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)  # A4


def test_the_qr_code_in_the_pdf_decodes_to_the_verification_url_with_the_claims(pdf: bytes, made, keys) -> None:
    images = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert len(images) == 1
    image = Image.open(io.BytesIO(images[0].data)).convert("L")
    found = zxingcpp.read_barcodes(image)
    assert [b.format for b in found] == [zxingcpp.BarcodeFormat.QRCode]
    assert found[0].text == made.url
    assert verify_qr_url(found[0].text, keys) == made.claims


def test_the_open_badge_credential_is_attached(pdf: bytes, made) -> None:
    attachments = PdfReader(io.BytesIO(pdf)).attachments
    assert list(attachments) == [ATTACHMENT_NAME]
    assert attachments[ATTACHMENT_NAME][0].decode() == made.credential_jwt


def test_markup_in_a_name_is_printed_literally_and_still_verifies(key, keys) -> None:
    from smeb_lti.certificates.verify import verify_pdf

    hostile = '<b>Kari</b> & "Ola" <img src=x onerror=alert(1)>'
    made = make_certificate(key, learner=hostile)
    pdf = made.pdf()
    assert hostile in read_pdf(pdf).text
    assert verify_pdf(pdf, keys).claims.learner_name == hostile
