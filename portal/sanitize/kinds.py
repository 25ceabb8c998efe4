"""The one table of file kinds: what each is called, how it is named and claimed,
and which cleaner, verifier and renderer handle it.

Every other place reads this table instead of keeping its own list: sniffing
(extensions and content types a name or browser may claim), the engine (which
cleaner, whether it streams, which kinds are refused and why), the verifier
(which whole-file check), the renderer (which kinds it can draw), file names
(the extension editors' programs expect) and the wording (what a kind is called).
A kind the cleaners accept without a verifier is a test failure
(tests/sanitize/test_kinds.py), never a silent pass. Plain data: no imports of
cleaners or verifiers, so both sides may read it without depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass


def gettext_noop(message: str) -> str:
    """Mark a string for translation without translating it here."""
    return message


@dataclass(frozen=True)
class Kind:
    """One kind of file as the cleaner detects it from the bytes.

    `extensions`: the names that claim it, the first being the one editors'
    programs expect. `cleaner` and `verifier` are "module:function" under
    portal.sanitize ("" for none; "stream" for the verifier that reads the output
    as it is written); `refusal` is the (code, detail) a refused kind
    is turned away with. `render`: how a safe copy is drawn ("" when it cannot
    be), with `office_extension` the name LibreOffice's import filter expects.
    """

    name: str
    family: str
    extensions: tuple[str, ...] = ()
    mimes: tuple[str, ...] = ()
    label: str = ""
    cleaner: str = ""
    verifier: str = ""
    streaming: bool = False
    refusal: tuple[str, str] | None = None
    render: str = ""
    office_extension: str = ""

    @property
    def cleanable(self) -> bool:
        return bool(self.cleaner) and self.family != "passthrough"


_OOXML_MIME = "application/vnd.openxmlformats-officedocument."
_ODF_MIME = "application/vnd.oasis.opendocument."
_OOXML = ("formats.ooxml:clean_ooxml", "verify.office:verify_office")
_ODF = ("formats.odf:clean_odf", "verify.office:verify_office")
_IMAGE = ("formats.images:clean_image", "verify.media:verify_media")
_AUDIO = ("formats.audio:clean_audio", "verify.media:verify_media")
_STREAM = "stream"


def _refused(name: str, code: str, detail: str = "", *extensions: str, mimes: tuple[str, ...] = (),
             family: str = "refused", render: str = "", office_extension: str = "") -> Kind:
    return Kind(name, family, extensions, mimes, refusal=(code, detail), render=render,
                office_extension=office_extension)


KINDS: tuple[Kind, ...] = (
    Kind("text", "text", ("txt",), ("text/plain",), gettext_noop("Plain text"),
         "formats.text:clean_text", _STREAM, streaming=True, render="office",
         office_extension="txt"),
    Kind("markdown", "text", ("md", "markdown"), ("text/markdown",),
         gettext_noop("Markdown text"), "formats.text:clean_text", _STREAM, streaming=True,
         render="office", office_extension="txt"),
    Kind("openpgp", "passthrough", ("gpg", "pgp", "asc"), ("application/pgp-encrypted",),
         gettext_noop("OpenPGP encrypted file"), "formats.passthrough:pass_openpgp", _STREAM,
         streaming=True),
    Kind("docx", "ooxml", ("docx",), (_OOXML_MIME + "wordprocessingml.document",),
         gettext_noop("Word document (DOCX)"), *_OOXML, render="office", office_extension="docx"),
    Kind("xlsx", "ooxml", ("xlsx",), (_OOXML_MIME + "spreadsheetml.sheet",),
         gettext_noop("Spreadsheet (XLSX)"), *_OOXML, render="office", office_extension="xlsx"),
    Kind("pptx", "ooxml", ("pptx",), (_OOXML_MIME + "presentationml.presentation",),
         gettext_noop("Slides (PPTX)"), *_OOXML, render="office", office_extension="pptx"),
    Kind("odt", "odf", ("odt",), (_ODF_MIME + "text",), gettext_noop("OpenDocument text (ODT)"),
         *_ODF, render="office", office_extension="odt"),
    Kind("ods", "odf", ("ods",), (_ODF_MIME + "spreadsheet",),
         gettext_noop("OpenDocument spreadsheet (ODS)"), *_ODF, render="office",
         office_extension="ods"),
    Kind("odp", "odf", ("odp",), (_ODF_MIME + "presentation",),
         gettext_noop("OpenDocument slides (ODP)"), *_ODF, render="office",
         office_extension="odp"),
    Kind("odg", "odf", ("odg",), (_ODF_MIME + "graphics",),
         gettext_noop("OpenDocument drawing (ODG)"), *_ODF, render="office",
         office_extension="odg"),
    Kind("pdf", "pdf", ("pdf",), ("application/pdf",), gettext_noop("PDF"),
         "formats.pdf:clean_pdf", "verify.pdf:verify_pdf", render="pdf"),
    Kind("jpeg", "image", ("jpg", "jpeg"), ("image/jpeg",), gettext_noop("JPEG picture"),
         *_IMAGE, render="image"),
    Kind("png", "image", ("png",), ("image/png",), gettext_noop("PNG picture"), *_IMAGE,
         render="image"),
    Kind("webp", "image", ("webp",), ("image/webp",), gettext_noop("WebP picture"), *_IMAGE,
         render="image"),
    Kind("tiff", "image", ("tif", "tiff"), ("image/tiff",), gettext_noop("TIFF picture"),
         *_IMAGE, render="image"),
    Kind("gif", "image", ("gif",), ("image/gif",), gettext_noop("GIF picture"), *_IMAGE,
         render="image"),
    Kind("bmp", "image", ("bmp",), ("image/bmp",), gettext_noop("BMP picture"), *_IMAGE,
         render="image"),
    Kind("heic", "image", ("heic", "heif"), ("image/heic",), gettext_noop("HEIC picture"),
         *_IMAGE, render="image"),
    Kind("mp3", "audio", ("mp3",), ("audio/mpeg",), gettext_noop("MP3 audio"), *_AUDIO),
    Kind("flac", "audio", ("flac",), ("audio/flac",), gettext_noop("FLAC audio"), *_AUDIO),
    Kind("ogg", "audio", ("ogg", "opus", "oga"), ("audio/ogg",), gettext_noop("Ogg audio"),
         *_AUDIO),
    Kind("m4a", "audio", ("m4a",), ("audio/mp4", "audio/x-m4a"), gettext_noop("M4A audio"),
         *_AUDIO),
    Kind("wav", "audio", ("wav",), ("audio/wav", "audio/x-wav"), gettext_noop("WAV audio"),
         "formats.audio:clean_wav", _STREAM, streaming=True),
    _refused("ole", "legacy-office", "DOC/XLS/PPT", "doc", "xls", "ppt",
             mimes=("application/msword",), render="office", office_extension="doc"),
    _refused("ooxml-encrypted", "encrypted-document"),
    _refused("rtf", "rtf", "", "rtf", mimes=("application/rtf",), render="office",
             office_extension="rtf"),
    _refused("zip", "archive", "ZIP", "zip", mimes=("application/zip",)),
    _refused("rar", "archive", "RAR", "rar"),
    _refused("7z", "archive", "7z", "7z"),
    _refused("gzip", "archive", "gzip", "gz", "tgz"),
    _refused("bzip2", "archive", "bzip2", "bz2"),
    _refused("xz", "archive", "xz", "xz"),
    _refused("zstd", "archive", "zstd", "zst"),
    _refused("tar", "archive", "tar", "tar"),
    _refused("cab", "archive", "CAB"),
    # Other programs' packages (forbidden.PACKAGES): refused with the export they need.
    _refused("pages", "pages", "", "pages"),
    _refused("numbers", "numbers", "", "numbers"),
    _refused("keynote", "keynote", "", "key"),
    _refused("ofd", "ofd", "", "ofd"),
    _refused("xps", "xps", "", "xps", "oxps"),
    _refused("epub", "epub", "", "epub", mimes=("application/epub+zip",), render="epub"),
    _refused("video", "video", "", "mp4", "m4v", "mov", "mkv", "webm", "avi", "3gp", "3g2",
             "flv", "ts", "mts", "m2ts", "wmv", "mpg", "mpeg",
             mimes=("video/mp4", "video/quicktime", "video/x-matroska", "video/webm",
                    "video/x-msvideo", "video/3gpp", "video/mp2t")),
    # An MP4-family file whose tracks were not read yet (see sniff_isobmff), or
    # one with neither pictures nor sound.
    _refused("isobmff", "unknown-type", "MP4"),
    _refused("executable", "executable"),
    # A legacy Office file that carries a macro project (forbidden.ole_verdict).
    _refused("ole-macros", "macros"),
    _refused("markup", "markup", "", "html", "htm", "xhtml", mimes=("text/html",)),
    _refused("svg", "svg", "", "svg", mimes=("image/svg+xml",)),
    # Text whose encoding cannot be told with certainty (textencoding.py).
    _refused("text-encoding", "not-utf8"),
    _refused("binary", "unknown-type"),
)

BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}

CLEANABLE = frozenset(kind.name for kind in KINDS if kind.cleanable)
PASS_THROUGH = frozenset(kind.name for kind in KINDS if kind.family == "passthrough")
STREAMING = frozenset(kind.name for kind in KINDS if kind.streaming)
REFUSED: dict[str, tuple[str, str]] = {k.name: k.refusal for k in KINDS if k.refusal}
CLEANERS: dict[str, str] = {kind.name: kind.cleaner for kind in KINDS if kind.cleaner}
VERIFIERS: dict[str, str] = {kind.name: kind.verifier for kind in KINDS if kind.verifier}
IMAGES = frozenset(kind.name for kind in KINDS if kind.render == "image")
AUDIO = frozenset(kind.name for kind in KINDS if kind.family == "audio" and not kind.streaming)
OOXML = frozenset(kind.name for kind in KINDS if kind.family == "ooxml")
ODF = frozenset(kind.name for kind in KINDS if kind.family == "odf")
OFFICE_EXTENSIONS: dict[str, str] = {
    kind.name: kind.office_extension for kind in KINDS if kind.render == "office"
}
RENDERABLE = frozenset(kind.name for kind in KINDS if kind.render)
# The extension editors' programs expect for each kind a cleaned file can have.
FILE_EXTENSIONS: dict[str, str] = {
    kind.name: kind.extensions[0] for kind in KINDS if kind.cleaner and kind.extensions
}
BY_EXTENSION: dict[str, str] = {ext: kind.name for kind in KINDS for ext in kind.extensions}
BY_MIME: dict[str, str] = {mime: kind.name for kind in KINDS for mime in kind.mimes}
LABELS: dict[str, str] = {kind.name: kind.label for kind in KINDS if kind.label}


def module_path(target: str) -> tuple[str, str]:
    """"formats.pdf:clean_pdf" → ("portal.sanitize.formats.pdf", "clean_pdf")."""
    module, _, func = target.partition(":")
    return f"portal.sanitize.{module}", func
