"""PyInstaller runtime hook of the shipped build: reportlab without Pillow.

reportlab imports Pillow (``from PIL import Image``) only to place bitmap images in a PDF,
which MiBao never does (labels draw their QR codes as vector paths, forms are text and lines).
Pillow and its image libraries are ~20 MB, so they stay out of the package and ``PIL.Image`` is
None here: reportlab's own no-imaging mode (``reportlab.lib.utils.haveImages`` is False).
"""

import sys
import types

if "PIL" not in sys.modules:
    _pil = types.ModuleType("PIL")
    _pil.Image = None
    _pil.__path__ = []  # a package with no submodules: ``import PIL.X`` fails as without Pillow
    sys.modules["PIL"] = _pil
