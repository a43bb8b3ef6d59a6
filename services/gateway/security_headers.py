"""Response headers that keep browsers strict: no sniffing, no referrer leaks, tight CSP."""

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
# The demo page: its own scripts and API only; inline styles for the page and the widget's
# shadow root; identicons are inline SVG.
DEMO_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


# The moderators' console: its own script, style sheet and API only, nothing inline.
CONSOLE_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def security_headers(path: str) -> dict[str, str]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    if path == "/demo":
        headers["Content-Security-Policy"] = DEMO_POLICY
    elif path == "/moderate":
        headers["Content-Security-Policy"] = CONSOLE_POLICY
    elif not path.endswith((".js", ".css")):
        headers["Content-Security-Policy"] = API_POLICY
    return headers
