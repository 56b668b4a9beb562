"""Writes frontend/dist/_headers: a Content-Security-Policy for the app that allows exactly the
inline loader script Trunk generates (by its SHA-256), plus the usual security headers. The
Worker's static assets apply it to every page."""
import base64
import hashlib
import pathlib
import re
import sys

dist = pathlib.Path(sys.argv[1])
html = (dist / "index.html").read_text()
scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S)
hashes = " ".join(
    "'sha256-%s'" % base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in scripts
)
csp = "; ".join([
    "default-src 'none'",
    f"script-src 'self' 'wasm-unsafe-eval' {hashes}".strip(),
    "style-src 'self'",
    "img-src 'self' data:",
    # The inspector may read any discovery service that allows browsers.
    "connect-src *",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
(dist / "_headers").write_text(
    "/*\n"
    f"  Content-Security-Policy: {csp}\n"
    "  X-Content-Type-Options: nosniff\n"
    "  X-Frame-Options: DENY\n"
    "  Referrer-Policy: no-referrer\n"
    "  Permissions-Policy: camera=(), microphone=(), geolocation=()\n"
    "  Cross-Origin-Opener-Policy: same-origin\n"
)
print(f"[build] {dist / '_headers'}: CSP with {len(scripts)} inline script hash(es)")
