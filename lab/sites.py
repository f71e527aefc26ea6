"""The pages the lab's web server serves, by site kind (pure: request in, response out).

Kinds: the official ほしぞら証券 site, phishing clones at several degrees of fidelity, a genuine page
of another firm (つばめ証券), parked and for-sale pages in real parking providers' styles, registrar
suspension pages, cloud "unclaimed resource" pages matching the takeover fingerprints, a redirect
chain, slow, huge and endless pages, 404 and 410 hosts, and ``canned`` answers (status, headers and
body given by the caller: each takeover lab case serves its provider's own answer this way).
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lab import assets, feeds
from lab.net import Request, Response

HTML = "text/html; charset=utf-8"
OFFICIAL_LOGIN = "https://trade.hoshizora-sec.co.jp/login"
# The carriers' common page about SMS short codes (fictional: one page stands for docomo, au,
# SoftBank and Rakuten Mobile's pages), which the firm's SMS page links to.
CARRIER_INFO = "https://www.lab-carrier.test/sms/shortcode/"


@dataclass
class Site:
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


# --- the official look ---------------------------------------------------------------------------

_CSS_OFFICIAL = """
:root { --brand: #0b1f4b; --accent: #f5c542; --bg: #f4f6fb; --text: #1d2433; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Hiragino Kaku Gothic ProN", "Noto Sans JP", Meiryo, sans-serif;
       background: var(--bg); color: var(--text); }
header { background: var(--brand); color: #fff; display: flex; align-items: center; padding: 8px 32px; }
header img { height: 56px; }
header nav { margin-left: auto; }
header nav a { color: #fff; margin-left: 20px; text-decoration: none; font-size: 14px; }
.hero img { width: 100%; display: block; }
main { max-width: 960px; margin: 24px auto; padding: 0 16px; }
.login-box { background: #fff; border-top: 4px solid var(--accent); border-radius: 6px; padding: 28px 32px;
             width: 420px; margin: 24px auto; box-shadow: 0 2px 8px rgba(0,0,0,.12); }
.login-box h1 { font-size: 20px; margin: 0 0 16px; color: var(--brand); }
.login-box label { display: block; font-size: 14px; margin: 12px 0 4px; }
.login-box input[type=text], .login-box input[type=password] { width: 100%; padding: 10px; font-size: 16px;
             border: 1px solid #b8c0d6; border-radius: 4px; }
.login-box button { width: 100%; margin-top: 20px; padding: 12px; background: var(--brand); color: #fff;
             border: 0; border-radius: 4px; font-size: 16px; }
.notice { background: #fff8e1; border-left: 4px solid var(--accent); padding: 12px 16px; font-size: 14px; }
.cards { display: flex; gap: 16px; } .card { flex: 1; background: #fff; padding: 16px; border-radius: 6px; }
footer { background: #1d2433; color: #c9cfdd; font-size: 12px; padding: 20px 32px; margin-top: 40px; }
footer a { color: #c9cfdd; }
"""

_CSS_RECOLORED = _CSS_OFFICIAL.replace("#0b1f4b", "#5b0b3e").replace("#f5c542", "#7fe0c2")

_CSS_RELAYOUT = """
body { margin: 0; font-family: sans-serif; background: #ffffff; color: #222; }
.wrap { display: grid; grid-template-columns: 380px 1fr; min-height: 100vh; }
.side { background: #0b1f4b; color: #fff; padding: 40px 28px; }
.side img { width: 300px; }
.side h1 { font-size: 18px; margin-top: 32px; }
.side label { display: block; margin-top: 14px; font-size: 13px; }
.side input { width: 100%; padding: 8px; margin-top: 4px; }
.side button { margin-top: 22px; width: 100%; padding: 10px; background: #f5c542; border: 0; font-weight: bold; }
.content { padding: 40px; } .content p { line-height: 1.8; }
"""

_FOOTER = """<footer>
<p>ほしぞら証券株式会社　金融商品取引業者 関東財務局長（金商）第9999号（架空）<br>
加入協会：日本証券業協会、一般社団法人日本投資顧問業協会</p>
<p><a href="/security/sms.html">SMS送信元について</a> ｜ <a href="/privacy">個人情報保護方針</a> ｜
<a href="/domains">当社が使用するドメイン一覧</a></p>
<p>Copyright &copy; Hoshizora Securities Co., Ltd. All Rights Reserved.</p>
</footer>"""


def _page(title: str, body: str, css: str = _CSS_OFFICIAL, head: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{title}</title>\n'
            f"<style>{css}</style>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n")


def _header(logo: str = "/assets/hoshizora-logo.png") -> str:
    return (f'<header><a href="https://www.hoshizora-sec.co.jp/"><img src="{logo}" alt="ほしぞら証券"></a>'
            '<nav><a href="/">ホーム</a><a href="/products">商品・サービス</a><a href="/support">お客様サポート</a>'
            f'<a href="{OFFICIAL_LOGIN}">ログイン</a></nav></header>')


def _login_box(action: str, title: str = "ログイン") -> str:
    return (f'<div class="login-box"><h1>{title}</h1>'
            f'<form method="post" action="{action}" autocomplete="off">'
            '<label for="account">口座番号</label><input type="text" id="account" name="account" '
            'placeholder="支店番号-口座番号（例：123-4567890）">'
            '<label for="password">パスワード</label><input type="password" id="password" name="password">'
            '<button type="submit">ログイン</button></form>'
            '<p style="font-size:13px"><a href="/forgot">ログインパスワードをお忘れの方</a></p></div>')


def official_top() -> str:
    body = (_header() + '<div class="hero"><img src="/assets/hoshizora-hero.png" alt="新NISA"></div><main>'
            '<p class="notice">【重要】当社を装ったフィッシングメール・SMSにご注意ください。当社がメールやSMSで'
            'ログインページのURLをお送りすることはありません。ブックマークまたは公式アプリからログインしてください。</p>'
            '<div class="cards"><div class="card"><h2>国内株式</h2><p>売買手数料 0円。</p></div>'
            '<div class="card"><h2>投資信託</h2><p>2,000本以上の品揃え。</p></div>'
            '<div class="card"><h2>新NISA</h2><p>つみたて投資枠・成長投資枠に対応。</p></div></div>'
            f'<p><a href="{OFFICIAL_LOGIN}">お客様ログインはこちら</a></p></main>' + _FOOTER)
    return _page("ほしぞら証券｜ネット証券・新NISA", body)


def official_login(action: str = "/login") -> str:
    body = (_header() + "<main>" + _login_box(action) +
            '<p class="notice">ログイン時には追加認証（ワンタイムパスワード）が必要です。</p></main>' + _FOOTER)
    return _page("ログイン｜ほしぞら証券", body)


def official_sms() -> str:
    body = (_header() + "<main><h1>当社からのSMS送信元について</h1>"
            "<p>当社はお客様へのSMSを、携帯電話会社共通ショートコード "
            '<strong id="sms-short-code">000512345</strong> から送信します。</p>'
            "<p>これ以外の送信元から届いた当社名のSMSは、フィッシングの可能性があります。"
            "SMSに記載されたURLからログインしないでください。</p>"
            f'<p>共通ショートコードについては<a href="{CARRIER_INFO}">携帯電話会社の案内</a>をご覧ください。</p>'
            "</main>" + _FOOTER)
    return _page("SMS送信元について｜ほしぞら証券", body)


def official_sms_faq() -> str:
    body = (_header() + "<main><h1>よくあるご質問：SMSについて</h1><dl><dt>ほしぞら証券からのSMSの送信元は？</dt>"
            "<dd>共通ショートコード「0005-12345」から送信しています。</dd>"
            "<dt>SMSのURLからログインしてもよいですか？</dt><dd>当社はSMSでログインページのURLをお送りしません。"
            "</dd></dl></main>" + _FOOTER)
    return _page("よくあるご質問｜ほしぞら証券", body)


def official_domains() -> str:
    # Published in 2023 and never updated: it still names hoshizora-fx.jp, let go in 2024 (a stale list).
    rows = "".join(f"<li>{d}</li>" for d in ("hoshizora-sec.co.jp", "hoshizora.jp", "hzsec.com", "hoshizora-sec.com",
                                             "hoshizora-fx.jp"))
    return _page("当社が使用するドメイン｜ほしぞら証券",
                 _header() + f"<main><h1>当社が使用するドメイン一覧</h1><ul>{rows}</ul></main>" + _FOOTER)


# --- clones --------------------------------------------------------------------------------------

def clone(kind: str) -> str:
    if kind == "exact":  # a byte-for-byte copy of the official login page, posting to the kit
        return official_login(action="/post.php")
    if kind == "recolored":
        body = (_header("/assets/hoshizora-logo-recolored.png") + "<main>" + _login_box("/post.php") +
                "</main>" + _FOOTER)
        return _page("ログイン｜ほしぞら証券", body, _CSS_RECOLORED)
    if kind == "relayout":
        body = ('<div class="wrap"><div class="side"><img src="/assets/hoshizora-logo.png" alt="ほしぞら証券">'
                '<h1>お客様ログイン</h1><form method="post" action="/post.php">'
                '<label>口座番号<input type="text" name="account"></label>'
                '<label>パスワード<input type="password" name="password"></label>'
                '<button type="submit">ログイン</button></form></div>'
                '<div class="content"><h2>セキュリティ強化のお知らせ</h2><p>お客様の口座を保護するため、'
                "本人確認の再設定をお願いしております。期限までに手続きがない場合、お取引を制限させていただきます。</p>"
                "<p>ほしぞら証券株式会社</p></div></div>")
        return _page("ほしぞら証券 - 本人確認", body, _CSS_RELAYOUT)
    if kind == "partial":
        body = ('<h2 style="font-family:sans-serif">ほしぞら証券 ログイン</h2>'
                '<form method="post" action="login.php"><p>口座番号 <input name="account"></p>'
                '<p>パスワード <input type="password" name="password"></p><p><input type="submit" value="ログイン"></p>'
                "</form>")
        return _page("ログイン", body, css="body{font-family:sans-serif;margin:40px}")
    if kind == "logo":
        body = ('<div style="max-width:520px;margin:60px auto;font-family:sans-serif">'
                '<img src="/assets/hoshizora-logo.png" alt="">'
                '<h3>Account verification</h3><form method="post" action="/verify">'
                '<p><input name="user" placeholder="ID"></p><p><input type="password" name="pass" placeholder="Password">'
                "</p><p><button>Continue</button></p></form></div>")
        return _page("Verify", body, css="body{background:#eee}")
    raise KeyError(kind)


def tsubame_login() -> str:
    css = (_CSS_OFFICIAL.replace("#0b1f4b", "#ffffff").replace("#f5c542", "#c8102e")
           .replace("header nav a { color: #fff;", "header nav a { color: #c8102e;"))
    body = ('<header><img src="/assets/tsubame-logo.png" alt="つばめ証券"><nav><a href="/">トップ</a>'
            '<a href="/help">ヘルプ</a></nav></header><main>' +
            _login_box("/auth", "つばめ証券 ログイン").replace("支店番号-口座番号（例：123-4567890）", "お客様コード") +
            "</main><footer><p>つばめ証券株式会社（架空）</p></footer>")
    return _page("ログイン｜つばめ証券", body, css)


def kaede_page(path: str) -> str:
    css = _CSS_OFFICIAL.replace("#0b1f4b", "#8a2a0a").replace("#f5c542", "#e8a33d")
    head = ('<header><strong style="font-size:26px">🍁 かえで証券</strong><nav><a href="/">ホーム</a>'
            '<a href="/login">ログイン</a></nav></header>')
    if path == "/login":
        return _page("ログイン｜かえで証券", head + "<main>" + _login_box("/login") + "</main>", css)
    return _page("かえで証券", head + "<main><h1>かえで証券へようこそ</h1><p>資産づくりを、もっと身近に。</p></main>", css)


def appstore_listing(app: str, description: str) -> str:
    a, d = html.escape(app), html.escape(description)
    body = (f'<main style="font-family:sans-serif"><h1>{a}</h1><p>ほしぞら証券株式会社</p><h2>説明</h2><p>{d}</p>'
            "<h2>評価とレビュー</h2><p>4.5</p></main>")
    return _page(f"{a} - App Store (lab)", body, css="")


def carrier_info(codes: dict[str, str]) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in codes.items())
    body = ('<main style="font-family:sans-serif"><h1>SMS送信元の共通ショートコードについて</h1>'
            "<p>共通ショートコード（0005から始まる番号）は、携帯電話会社4社の審査を経た企業に割り当てられる"
            "SMSの送信元番号です。</p>" + (f"<table><tr><th>企業</th><th>番号</th></tr>{rows}</table>" if rows else "")
            + "</main>")
    return _page("共通ショートコード｜携帯電話会社（lab）", body, css="")


# --- parked, for sale, suspended -----------------------------------------------------------------

def parked(host: str, style: str) -> str:
    h = html.escape(host)
    if style == "sedo":
        return _page(f"{h} - This domain may be for sale!",
                     f'<div style="font-family:Arial;text-align:center;padding:40px"><h1>{h}</h1>'
                     '<p>This domain may be for sale!</p><p><a href="https://sedo.com/search/details/?domain=' + h +
                     '">Buy this domain</a></p><h3>Related Links</h3><ul style="list-style:none">'
                     "<li><a href='/?q=online+trading'>Online Trading</a></li><li><a href='/?q=stock'>Stock Broker</a>"
                     "</li><li><a href='/?q=nisa'>NISA Account</a></li></ul>"
                     "<p style='font-size:11px'>The Sponsored Listings displayed above are served automatically by a "
                     "third party. Parking by Sedo.</p></div>", css="")
    if style == "godaddy":
        return _page(f"{h} is for sale",
                     f'<div style="font-family:Arial;padding:40px"><h1>{h}</h1><h2>This Domain Is For Sale</h2>'
                     "<p>Get this domain. Our Domain Brokers can help you get it.</p>"
                     "<p>Parked free, courtesy of GoDaddy.com.</p></div>", css="")
    if style == "dan":
        return _page(f"{h} is for sale | Dan.com",
                     f'<div style="font-family:Arial;padding:40px"><h1>The domain name {h} is for sale</h1>'
                     "<p>Buy now for <strong>US$2,950</strong> or make an offer.</p>"
                     "<p>Secure ownership transfer by Dan.com. Buyer protection program.</p></div>", css="")
    if style == "bodis":
        return _page(h, f'<div style="font-family:Arial;padding:40px"><h1>{h}</h1><h3>Related Searches</h3>'
                     "<ul><li>Securities Account</li><li>Online Broker Japan</li><li>Stock Trading App</li></ul>"
                     "<p>This webpage was generated by the domain owner using Bodis.</p></div>", css="")
    if style == "onamae":  # the parked page a big Japanese registrar shows by default
        return _page(h, f'<div style="font-family:sans-serif;padding:40px"><h1>{h}</h1>'
                     "<p>このドメインは、お名前.comで取得されています。</p>"
                     "<p>お名前.comのトップページへ / ドメイン取得はお名前.com</p></div>", css="")
    raise KeyError(style)


def suspended(host: str, registrar: str) -> str:
    h = html.escape(host)
    return _page("Domain Suspended",
                 f'<div style="font-family:Arial;text-align:center;padding:60px"><h1>This domain has been suspended</h1>'
                 f"<p>{h} has been suspended by the registrar {html.escape(registrar)} for violation of the "
                 "registration agreement (abuse: phishing).</p><p>このドメインは登録事業者により利用停止されています。</p>"
                 "<p>Status: clientHold</p></div>", css="")


# --- takeover fingerprints (can-i-take-over-xyz) ---------------------------------------------------

def takeover(host: str, service: str) -> Response:
    if service == "s3":
        bucket = html.escape(host)
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchBucket</Code>'
                f"<Message>The specified bucket does not exist</Message><BucketName>{bucket}</BucketName>"
                "<RequestId>LAB0REQUEST0ID00</RequestId><HostId>lab-host-id</HostId></Error>")
        return Response(404, body.encode(), "application/xml", {"Server": "AmazonS3"})
    if service == "github":
        return Response(404, _page("Site not found · GitHub Pages",
                                   "<div style='font-family:sans-serif;text-align:center;padding:60px'><h1>404</h1>"
                                   "<p><strong>There isn't a GitHub Pages site here.</strong></p>"
                                   "<p>If you're trying to publish one, read the full documentation to learn how to "
                                   "set up GitHub Pages for your repository.</p></div>", css="").encode(), HTML,
                        {"Server": "GitHub.com"})
    if service == "heroku":
        return Response(404, _page("No such app", "<div style='font-family:sans-serif;padding:60px'>"
                                   "<h1>No such app</h1><p>There's nothing here, yet.</p>"
                                   "<p>Building something new? Heroku.</p></div>", css="").encode(), HTML,
                        {"Server": "Cowboy"})
    if service == "azure":
        return Response(404, _page("Microsoft Azure Web App - Error 404",
                                   "<div style='font-family:Segoe UI,sans-serif;padding:60px'><h1>404 Web Site not found."
                                   "</h1><p>You may be seeing this error due to one of the reasons listed below:</p>"
                                   "<ul><li>Custom domain has not been configured inside Azure.</li>"
                                   "<li>Client cache is still pointing the domain to old IP address.</li></ul></div>",
                                   css="").encode(), HTML, {"Server": "Microsoft-IIS/10.0"})
    raise KeyError(service)


# --- dispatch --------------------------------------------------------------------------------------

def _html(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, text.encode(), HTML, dict(headers or {}))


def _asset(path: str) -> Response | None:
    if path.startswith("/assets/") and path.endswith(".png"):
        name = path.rsplit("/", 1)[-1]
        try:
            return Response(200, assets.load(name), "image/png", {"Cache-Control": "max-age=86400"})
        except OSError:
            return None
    return None


def _slow_body(delay: float, stopping: threading.Event) -> Iterator[bytes]:
    stopping.wait(delay)
    yield _page("Slow", "<p>ゆっくり表示されるページです。</p>", css="").encode()


def _huge_body(size: int) -> Iterator[bytes]:
    row = ("<p>" + "ほしぞら証券 大量データ " * 40 + "</p>\n").encode()
    yield b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Huge</title></head><body>\n"
    sent = 0
    block = row * max(1, 65536 // len(row))
    while sent < size:
        chunk = block[: size - sent]
        sent += len(chunk)
        yield chunk
    yield b"</body></html>\n"


def _endless_body(stopping: threading.Event) -> Iterator[bytes]:
    yield b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Endless</title></head><body>\n"
    n = 0
    while not stopping.is_set():  # ends when the client disconnects (the write fails) or the lab stops
        n += 1
        yield "".join(f"<p>line {n}.{i}: まだ続きます…</p>\n" for i in range(40)).encode()
        time.sleep(0.02)


def render(site: Site, host: str, request: Request, stopping: threading.Event) -> Response:
    """The response of `site` (published on `host`) to `request`."""
    kind, opt, path = site.kind, site.options, request.path
    asset = _asset(path)
    if asset is not None and kind not in ("gone", "notfound", "suspended") and not kind.startswith("takeover"):
        return asset
    if kind == "official":
        if path in ("/", "/index.html"):
            return _html(official_top())
        if path == "/login":
            if request.method == "POST":
                return _html(official_login().replace("<main>", '<main><p class="notice">口座番号またはパスワードが'
                                                      "正しくありません。</p>"), 200)
            return _html(official_login())
        if path == "/security/sms.html":
            return _html(official_sms())
        if path == "/support/sms-faq.html":
            return _html(official_sms_faq())
        if path == "/domains":
            return _html(official_domains())
        return _html(_page("ページが見つかりません", _header() + "<main><h1>404</h1></main>" + _FOOTER), 404)
    if kind.startswith("clone-"):
        fidelity = kind.removeprefix("clone-")
        only = opt.get("path")
        if only and path != only:
            return _html(_page("404 Not Found", "<h1>Not Found</h1>", css=""), 404)
        if request.method == "POST":  # the kit takes the credentials and bounces to the real site
            return Response(302, b"", HTML, {"Location": OFFICIAL_LOGIN})
        return _html(clone(fidelity))
    if kind == "tsubame":
        return _html(tsubame_login())
    if kind == "kaede":
        return _html(kaede_page(path)) if path in ("/", "/login") else _html(_page("404", "", css=""), 404)
    if kind.startswith("parked"):
        style = kind.partition("-")[2] or opt.get("style", "sedo")
        return _html(parked(host, style))
    if kind == "forsale":
        return _html(parked(host, "dan"))
    if kind == "suspended":
        return _html(suspended(host, opt.get("registrar", "Cheap Names Ltd.")))
    if kind.startswith("takeover-"):
        return takeover(host, kind.removeprefix("takeover-"))
    if kind == "redirect":
        hops = int(opt.get("hops", 3))
        final = str(opt.get("to", "/final"))
        if path == "/":
            return Response(302, b"", HTML, {"Location": "/r/1"})
        if path.startswith("/r/"):
            n = int(path.removeprefix("/r/") or 1)
            return Response(301 if n % 2 else 302, b"", HTML, {"Location": f"/r/{n + 1}" if n < hops else final})
        return _html(_page("Final", "<p>リダイレクトの最後のページです。</p>", css=""))
    if kind == "slow":
        return Response(200, _slow_body(float(opt.get("delay", 5.0)), stopping), HTML)
    if kind == "huge":
        return Response(200, _huge_body(int(opt.get("size", 30 * 1024 * 1024))), HTML)
    if kind == "endless":
        return Response(200, _endless_body(stopping), HTML)
    if kind == "gone":
        return _html(_page("410 Gone", "<h1>Gone</h1>", css=""), 410)
    if kind == "notfound":
        return _html(_page("404 Not Found", "<h1>Not Found</h1>", css=""), 404)
    if kind == "mta-sts":  # RFC 8461 policy host (mta-sts.<domain>)
        if path != "/.well-known/mta-sts.txt":
            return _html(_page("404 Not Found", "<h1>Not Found</h1>", css=""), 404)
        mx = opt.get("mx", ["mail." + host.removeprefix("mta-sts.")])
        policy = (f"version: STSv1\nmode: {opt.get('mode', 'enforce')}\n"
                  + "".join(f"mx: {m}\n" for m in mx) + f"max_age: {int(opt.get('max_age', 604800))}\n")
        return Response(200, policy.encode(), "text/plain; charset=utf-8")
    if kind == "bimi":  # a firm's BIMI files: the logo (l=) and the mark certificate (a=)
        if path == opt.get("logo_path", "/bimi/logo.svg") and "svg" in opt:
            return Response(200, str(opt["svg"]).encode(), "image/svg+xml")
        if path == opt.get("pem_path", "/bimi/vmc.pem") and "pem" in opt:
            return Response(200, str(opt["pem"]).encode(), "application/x-pem-file")
        return _html(_page("404 Not Found", "<h1>Not Found</h1>", css=""), 404)
    if kind == "appstore":  # an app store's listing page of the firm's app
        return _html(appstore_listing(str(opt.get("app", "ほしぞら証券アプリ")), str(opt.get("text", ""))))
    if kind == "carrier-info":  # the carriers' page about common SMS short codes
        return _html(carrier_info(dict(opt.get("codes") or {})))
    if kind == "shortener":  # a URL shortener or a click-tracking host: path (and query) -> target
        links = dict(opt.get("links") or {})
        raw_query = urlsplit(request.raw_path).query
        full = path + ("?" + raw_query if raw_query else "")
        target = links.get(full) or links.get(path)
        if target:
            return Response(301, b"", HTML, {"Location": str(target)})
        return _html(_page("404 Not Found", "<h1>Not Found</h1>", css=""), 404)
    if kind == "corporate":
        name = html.escape(str(opt.get("title", host)))
        return _html(_page(name, f"<main><h1>{name}</h1><p>{html.escape(str(opt.get('text', '')))}</p></main>"))
    if kind == "blank":
        return _html(_page("", "", css=""))
    if kind == "hacked":  # a small business's old site; a phishing kit was dropped into one of its directories
        kit = str(opt.get("path", "/wp-content/uploads/hz/login.php"))
        if path == kit and not opt.get("removed"):
            if request.method == "POST":
                return Response(302, b"", HTML, {"Location": OFFICIAL_LOGIN})
            return _html(clone(str(opt.get("fidelity", "exact"))))
        if path in ("/", "/index.html"):
            name = html.escape(str(opt.get("title", "山田工務店")))
            return _html(_page(name, f"<main><h1>{name}</h1><p>創業1978年。住宅の新築・リフォームは"
                                     "お気軽にご相談ください。</p><p>営業時間 9:00〜18:00（日曜定休）</p></main>"))
        return _html(_page("404 Not Found", "<h1>Not Found</h1>", css=""), 404)
    if kind == "page":  # a page whose HTML the test gives (e.g. the official-domains page omamori wrote)
        return _html(str(opt.get("body", "")))
    if kind == "feed":
        return feeds.render(opt, request)
    if kind == "canned":  # a provider's own answer, exactly as given (takeover lab cases: status, headers, body)
        headers = {str(k): str(v) for k, v in dict(opt.get("headers") or {}).items()}
        ctype = headers.pop("Content-Type", None) or str(opt.get("content_type", HTML))
        return Response(int(opt.get("status", 200)), str(opt.get("body", "")).encode(), ctype, headers)
    raise KeyError(f"unknown site kind {kind!r}")


KINDS = ("official", "clone-exact", "clone-recolored", "clone-relayout", "clone-partial", "clone-logo", "tsubame", "kaede",
         "parked-sedo", "parked-godaddy", "parked-dan", "parked-bodis", "parked-onamae", "forsale", "suspended",
         "takeover-s3", "takeover-github", "takeover-heroku", "takeover-azure", "redirect", "slow", "huge", "endless",
         "gone", "notfound", "mta-sts", "corporate", "blank", "page", "feed", "hacked", "canned", "bimi", "appstore",
         "carrier-info", "shortener")
