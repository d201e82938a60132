"""The HTTP wire format shared by the server and the remote client.

Records travel as the JSON of their dataclass fields (NaN and infinities as the strings "NaN",
"Infinity" and "-Infinity"); request bodies are the Pydantic models in ``bodies``. Both sides
import this package, so the format is written down once.
"""

from mlpilot.wire.codec import decode, encode

__all__ = ["API_PREFIX", "SHA256_HEADER", "decode", "encode"]

API_PREFIX = "/api/v1"
# On every artifact and dataset download: the sha256 the bytes must hash to.
SHA256_HEADER = "X-Content-SHA256"
