"""A Sentinel-1 SAFE product, a `.SAFE` folder or its downloaded `.zip`, read in place.

Zips are never extracted: members are read one at a time, each bounded by its declared size and by
MAX_MEMBER_BYTES (a zip bomb is refused from its directory), and a zip holding a name that would escape the
product (absolute, `..`, backslashes) is refused whole. XML is parsed with defusedxml: no DTDs, no entities.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from .limits import InputError

MANIFEST = "manifest.safe"
MAX_MEMBER_BYTES = 64 << 20  # an annotation or calibration XML, a quick-look (measurements are read in place)
MAX_MEMBERS = 10_000
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, OSError)


def is_safe_zip(archive: zipfile.ZipFile) -> bool:
    return any(PurePosixPath(n).name == MANIFEST for n in archive.namelist())


def checked_names(archive: zipfile.ZipFile, label: str) -> list[str]:
    """The zip's member names, refusing the whole zip when one would land outside the product."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"{label} holds {len(infos):,} files; a SAFE product holds a few dozen")
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name).parts
        if name.startswith("/") or "\\" in name or ".." in parts or re.match(r"^[A-Za-z]:", name):
            raise InputError(f"{label} is refused: its member {name!r} points outside the product (zip traversal)")
    return [i.filename for i in infos if not i.is_dir()]


class Product(ABC):
    """Read access to the files of one SAFE product by their path inside it ("annotation/x.xml")."""

    kind = ""  # "folder" or "zip"

    def __init__(self, name: str, files: dict[str, int]):
        self.name = name  # the product's folder name, e.g. S1A_IW_GRDH_1SDV_..._8255.SAFE
        self.files = files  # relative path -> size in bytes

    def find(self, pattern: str) -> list[str]:
        """Relative paths matching a regular expression (full match, case-insensitive), sorted."""
        expression = re.compile(pattern, re.IGNORECASE)
        return sorted(p for p in self.files if expression.fullmatch(p))

    def read(self, relative: str) -> bytes:
        size = self.files[relative]
        if size > MAX_MEMBER_BYTES:
            raise InputError(
                f"{relative} unpacks to {size / 2**20:,.0f} MiB, over the {MAX_MEMBER_BYTES >> 20} MiB limit "
                "for a product's XML or preview (a zip bomb?)"
            )
        return self.read_bytes(relative, size)

    def xml(self, relative: str) -> Element:
        """A product XML parsed safely: DTDs and entities (an entity-expansion bomb) are refused."""
        try:
            return fromstring(self.read(relative), forbid_dtd=True)
        except DefusedXmlException as err:
            raise InputError(f"{relative} is refused: it declares a DTD or entities ({type(err).__name__})") from None
        except ParseError as err:
            raise InputError(f"{relative} is not valid XML ({err}); the product is corrupt or truncated") from None

    @abstractmethod
    def read_bytes(self, relative: str, size: int) -> bytes:
        """A member's bytes, at most `size` + 1 of them."""

    @contextmanager
    def raster(self, relative: str):
        """A member opened as a rasterio dataset, in place (rasterio is imported only here)."""
        import rasterio

        with rasterio.open(self.gdal_path(relative)) as dataset:
            yield dataset

    @abstractmethod
    def gdal_path(self, relative: str) -> str:
        """The path GDAL opens a member by."""


class FolderProduct(Product):
    kind = "folder"

    def __init__(self, folder: Path):
        root = folder.resolve()
        files = {}
        for path in sorted(root.rglob("*"))[:MAX_MEMBERS]:
            if path.is_file():
                if not path.resolve().is_relative_to(root):
                    raise InputError(f"{folder.name}: {path.relative_to(root)} links outside the product; refused")
                files[path.relative_to(root).as_posix()] = path.stat().st_size
        super().__init__(folder.name, files)
        self.root = root

    def read_bytes(self, relative: str, size: int) -> bytes:
        try:
            return (self.root / relative).read_bytes()
        except OSError as err:
            raise InputError(f"{relative}: cannot be read ({err.strerror or err})") from None

    def gdal_path(self, relative: str) -> str:
        return str(self.root / relative)


class ZipProduct(Product):
    kind = "zip"

    def __init__(self, archive: zipfile.ZipFile, label: str, source: Path | bytes):
        names = checked_names(archive, label)
        manifests = sorted((n for n in names if PurePosixPath(n).name == MANIFEST), key=len)
        prefix = str(PurePosixPath(manifests[0]).parent)
        prefix = "" if prefix == "." else prefix + "/"
        files = {n[len(prefix) :]: archive.getinfo(n).file_size for n in names if n.startswith(prefix)}
        super().__init__(prefix.rstrip("/") or label, files)
        self.archive, self.prefix, self.source = archive, prefix, source

    def read_bytes(self, relative: str, size: int) -> bytes:
        try:
            with self.archive.open(self.prefix + relative) as member:
                return member.read(size + 1)
        except ZIP_ERRORS as err:
            raise InputError(f"{relative} in the zip is corrupt or truncated ({err})") from None

    @contextmanager
    def raster(self, relative: str):
        if not isinstance(self.source, bytes):
            with super().raster(relative) as dataset:
                yield dataset
            return
        from rasterio.io import ZipMemoryFile  # an upload held in memory

        with ZipMemoryFile(self.source) as memory, memory.open(self.prefix + relative) as dataset:
            yield dataset

    def gdal_path(self, relative: str) -> str:
        return f"/vsizip/{self.source.resolve()}/{self.prefix}{relative}"


@contextmanager
def open_product(source: Path | bytes, label: str):
    """A Product for a `.SAFE` folder, or a SAFE zip given as a path or as bytes; InputError when it is neither."""
    if isinstance(source, Path) and source.is_dir():
        if not (source / MANIFEST).is_file():
            raise InputError(
                f"{source.name} is a folder without {MANIFEST}: not a SAFE product; give a .SAFE folder or its .zip"
            )
        yield FolderProduct(source)
        return
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
            yield ZipProduct(archive, label, source)
    except ZIP_ERRORS as err:
        raise InputError(
            f"{label}: corrupt or truncated zip ({err}); give a SAFE product's .zip as downloaded"
        ) from None
