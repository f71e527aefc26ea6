"""Texts of the sharing area (evidence bundles, shared indicators): key -> (Japanese, English)."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    "sharing.bundle.readme": (
        "事案 {case}（{site}）の証拠一式です。作成 {at}。manifest.json に全ファイルの SHA-256 を記載し、"
        "manifest.json.p7s はその分離署名（CMS）です。検証例：openssl cms -verify -binary -inform DER "
        "-in manifest.json.p7s -content manifest.json -CAfile <発行者の証明書>。各ファイルは sha256sum で"
        "照合できます。",
        "Evidence bundle for case {case} ({site}), made {at}. manifest.json lists the SHA-256 of every file; "
        "manifest.json.p7s is its detached CMS signature. Verify with: openssl cms -verify -binary -inform DER "
        "-in manifest.json.p7s -content manifest.json -CAfile <issuer certificate>, and each file with sha256sum."),
    "sharing.bundle.unsigned": ("署名用の証明書が未設定のため、manifest.json は署名されていません。",
                                "No signing certificate is configured: manifest.json is not signed."),
    "sharing.stix.campaign": ("{brand}を装うフィッシングサイト：{site}", "Phishing site impersonating {brand}: {site}"),
    "sharing.stix.indicator": ("{brand}を装うフィッシング：{value}", "Phishing impersonating {brand}: {value}"),
}
