"""Swagger UI's "Authorize" with the OAuth2 client-credentials flow, proved in
a real browser: Debian's Chromium, driven by Playwright, opens /swagger-ui/,
authorizes as the demo Ministry of Transport, runs "Try it out" on the
consented face fetch and checks that an image came back. Screenshots of each
step are saved, so a failure can be looked at.

Usage: swagger_ui.py BASE_URL CLIENT_ID CLIENT_SECRET AFM SCREENSHOT_DIR
(called by .ci/run against a served development instance).
"""

import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

FACE_PATH = "/v1/citizens/{afm}/photos/face"
# Without the background-networking flags, Chromium's own calls home are
# refused by a closed network, many at a time; as root it needs --no-sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main(base_url: str, client_id: str, client_secret: str, afm: str, shots: Path) -> None:
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(20_000)
        page.goto(f"{base_url}/swagger-ui/")
        page.locator(".swagger-ui .auth-wrapper .authorize").click()
        page.screenshot(path=shots / "swagger-1-authorize-dialog.png")

        # The dialog lists every security scheme; fill in the oauth2 one.
        oauth = page.locator(".auth-container").filter(has_text="clientCredentials")
        oauth.locator("input[id^='client_id_']").fill(client_id)
        oauth.locator("input[id^='client_secret_']").fill(client_secret)
        oauth.get_by_text("select all").click()
        oauth.locator("button.authorize").click()
        # Swagger UI shows "Logout" once the token endpoint answered a token.
        expect(oauth.locator("button", has_text="Logout")).to_be_visible()
        page.screenshot(path=shots / "swagger-2-authorized.png")
        oauth.locator(".btn-done").click()

        operation = page.locator(".opblock-get").filter(
            has=page.locator(f".opblock-summary-path[data-path='{FACE_PATH}']")
        )
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        operation.locator("input[placeholder='afm']").fill(afm)
        operation.get_by_role("button", name="Execute").click()
        live = operation.locator(".live-responses-table")
        expect(live.locator("tr.response td.response-col_status")).to_have_text("200")
        # An image answer is shown as the image itself.
        image = live.locator("img")
        expect(image).to_be_visible()
        width = image.evaluate("img => img.naturalWidth")
        operation.screenshot(path=shots / "swagger-3-face-fetched.png")
        browser.close()
    if not width:
        sys.exit("the face answer did not render as an image")
    print(f"Swagger UI: authorized with client credentials and fetched the face ({width} px wide)")


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    main(*sys.argv[1:5], Path(sys.argv[5]))
