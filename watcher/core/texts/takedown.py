"""Texts of the takedown area: key -> (Japanese, English). See watcher/core/texts/__init__.py."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, tuple[str, str]]] = {
    # --- what each recipient is asked (the letter's "ask" line) -----------------------------------
    "takedown.ask.registrar": ("ドメイン名の利用停止（clientHold 等）をお願いいたします。",
                               "Please suspend the domain name (e.g. clientHold)."),
    "takedown.ask.registry": ("当該ドメイン名の指定事業者の連絡先を確認できませんでした。指定事業者へのご連絡、"
                              "またはドメイン名の利用停止へのご協力をお願いいたします。",
                              "We could not find an abuse contact of this domain's registrar. Please forward "
                              "this to the registrar or help suspend the domain name."),
    "takedown.ask.hosting": ("当該コンテンツの削除、またはサーバーの利用停止をお願いいたします。",
                             "Please remove the content or suspend the server."),
    "takedown.ask.cdn": ("当該サイトへのサービス提供の停止をお願いいたします。配信元サーバーの情報もご提供いただけますと幸いです。",
                         "Please stop serving this site, and tell us its origin server if you can."),
    "takedown.ask.cert": ("情報提供です。関係機関への連絡・調整およびブロックリストへの登録にご協力をお願いいたします。",
                          "For your information: please help coordinate the takedown and add the site to block lists."),
    "takedown.ask.shortener": ("お客様に届いたメールの短縮URL（{links}）が下記のフィッシングサイトへ転送しています。"
                               "短縮URLの無効化をお願いいたします。",
                               "The short link(s) {links} in a mail our customers received redirect to the phishing "
                               "site below. Please disable them."),
    "takedown.ask.other": ("停止に向けたご協力をお願いいたします。", "Please help us get this site taken down."),
    "takedown.ask.hosting_hacked": ("当該サイトは正規のサイトが改ざんされ、{paths} にフィッシングサイトが設置されたものと"
                                    "考えられます。サイト全体ではなく、当該パスのコンテンツの削除をお願いいたします。",
                                    "This looks like a legitimate site that was compromised: the phishing pages sit at "
                                    "{paths}. Please remove that content, not the whole site."),
    "takedown.ask.owner_hacked": ("貴サイトが不正アクセスを受け、{paths} に当社を装うフィッシングサイトが設置されています。"
                                  "当該コンテンツの削除と、侵入経路（CMS やプラグインの脆弱性、パスワード等）のご確認を"
                                  "お願いいたします。",
                                  "Your site appears to have been compromised: phishing pages impersonating us sit at "
                                  "{paths}. Please remove them and check how they got there (an outdated CMS or "
                                  "plug-in, a leaked password)."),
    # --- reasons whose stored form has no catalogue text (written before 0.2, or by discovery) --------
    "takedown.reason.keyword": ("ドメイン名に当社のブランド名が含まれています", "the domain name contains our brand name"),
    "takedown.reason.flattened": ("ドメイン名に当社のドメイン名が埋め込まれています",
                                  "the domain name embeds our own domain name"),
    "takedown.reason.permutation": ("ドメイン名が当社のドメイン名の綴りを変えたものです",
                                    "the domain name is a misspelling of ours"),
    "takedown.reason.edit_distance": ("ドメイン名が当社の名称と一、二文字違いです",
                                      "the domain name differs from our name by one or two letters"),
    "takedown.reason.homoglyph": ("ドメイン名に当社の名称と見分けにくい文字が使われています",
                                  "the domain name uses look-alike characters of our name"),
    "takedown.reason.combo": ("ドメイン名が当社の名称に別の単語を組み合わせたものです",
                              "the domain name combines our name with another word"),
    "takedown.reason.report": ("お客様または関係者から報告を受けました", "it was reported to us by a customer or partner"),
    "takedown.reason.feed": ("フィッシングURLの共有情報に掲載されています", "it is listed in a shared phishing URL feed"),
    "takedown.reason.newly_registered": ("最近登録されたドメイン名です", "the domain was registered recently"),
    "takedown.reason.visual": ("画面が当社の公式ページと一致します", "the page looks like our official page"),
    "takedown.reason.visual_clone": ("画面が当社の公式ページと一致します", "the page looks like our official page"),
    "takedown.reason.logo": ("当社のロゴが表示されています", "our logo appears on the page"),
    "takedown.reason.favicon": ("ファビコンが当社のものと同じです", "the favicon is ours"),
    "takedown.reason.html": ("HTML が当社の公式ページの複製です", "the HTML copies our official page"),
    "takedown.reason.brand_name": ("ページに当社名が表示されています", "the page names us"),
    "takedown.reason.login_words": ("ページがログインを求めています", "the page asks the visitor to log in"),
    "takedown.reason.credential_form": ("パスワード等を入力させるフォームがあります", "a form asks for a password or PIN"),
    "takedown.reason.password_form": ("パスワードを入力させるフォームがあります", "a form asks for a password"),
    "takedown.reason.fresh_registration": ("最近登録されたドメイン名です", "the domain was registered recently"),
    "takedown.reason.other": ("当社の調査で当社を装うフィッシングサイトと判断しました",
                              "our analysis found it impersonates us"),
    # --- modes (policy.site_mode) and their checks, as the dashboard shows them --------------------------
    # Sent with every blocklist submission (the services' analysts read English).
    "takedown.blocklist_comment": ("{brand} を装うフィッシングサイト（omamori の案件 {domain}）",
                                   "Phishing site impersonating {brand} (omamori case {domain})"),
    "takedown.mode.suspend": ("ドメイン停止（フィッシング用ドメイン）", "suspend the domain (a phishing domain)"),
    "takedown.mode.remove_content": ("コンテンツ削除（改ざんされた正規サイト）",
                                     "remove the content (a hacked legitimate site)"),
    "takedown.mode_check.old_registration": ("登録から長期間経過したドメイン名", "an old registration"),
    "takedown.mode_check.kit_in_path": ("フィッシングページがサイト内のパスにある", "the kit sits in a path of the site"),
    "takedown.mode_check.ordinary_home": ("トップページは通常のサイト", "an ordinary home page"),
    # --- findings ---------------------------------------------------------------------------------------
    "takedown.no_registrar_title": ("{domain}: 指定事業者の不正利用窓口が見つかりません",
                                    "{domain}: no abuse address of its registrar"),
    "takedown.no_registrar_detail": ("JPRS WHOIS の指定事業者「{registrar}」の連絡先が指定事業者の表（{table}）にも WHOIS にも"
                                     "ありません。JPRS と JPCERT/CC に依頼しました。指定事業者のサイトで窓口を確認し、表に"
                                     "追加してください。",
                                     "The registrar JPRS WHOIS names ({registrar}) has no abuse address in the "
                                     "designated-registrar table ({table}) nor in WHOIS. JPRS and JPCERT/CC were asked "
                                     "instead. Look the desk up on the registrar's site and add it to the table."),
    "takedown.bounced_title": ("TD-{id} が {recipient} に届きませんでした", "TD-{id} did not reach {recipient}"),
    "takedown.bounced_detail": ("配送不能通知（{status}）: {diagnostic}。宛先を確認し、別の窓口に依頼してください。",
                                "Delivery status notification ({status}): {diagnostic}. Check the address and "
                                "ask another desk."),
    "takedown.send_failed": ("削除依頼 TD-{id}（{recipient} 宛）を送信できませんでした",
                             "takedown request TD-{id} to {recipient} could not be sent"),
    "takedown.send_failed_detail": (
        "メールサーバーの応答: {error}（{attempts} 回試行）。自動では再送しません。宛先と送信設定を確認し、"
        "依頼を再送するか、別の窓口（フォーム等）から依頼してください。",
        "The mail server answered: {error} ({attempts} attempts). It is not retried by itself: check the "
        "recipient and the mail settings, then re-send the request or use another channel (a web form)."),
    "takedown.name_lookalike": ("ドメイン名 {name}（{alabel}）は、［］内の文字を似た別の文字に置き換えて当社の {official} に見せかけています",
                                "the name {name} ({alabel}) imitates our {official}: the characters in ［］ are look-alikes"),
    "takedown.no_registrar_contact": ("RDAP と WHOIS にレジストラの不正利用窓口がありません",
                                      "RDAP and WHOIS named no abuse contact for the registrar"),
    "takedown.no_registrar_contact_jp": ("指定事業者の不正利用窓口が見つかりません（JPRS と CERT に依頼します）",
                                         "no abuse address for the designated registrar (JPRS and the CERTs are "
                                         "asked instead)"),
    "takedown.no_owner_contact": ("登録情報にサイト所有者の連絡先がありません",
                                  "the registration names no address for the site's owner"),
    "takedown.no_network_contact": ("IP アドレスの RDAP にネットワークの不正利用窓口がありません",
                                    "IP RDAP named no abuse contact for the network"),
    "takedown.recipient_cut": ("{who} は宛先から除外されました（{why}）", "{who} was left out ({why})"),
    "takedown.reason.auto_rule": ("自動ルール: フィッシング判定 {verdict}、ブランドのなりすまし {impersonation}、"
                                  "パスワード入力欄 {password_form}、類似名 {lookalike}",
                                  "auto rule: verdict phishing: {verdict}; impersonates the brand: {impersonation}; "
                                  "password form: {password_form}; lookalike name: {lookalike}"),
    "takedown.reason.sent": ("通報を送信済み", "takedown requests sent"),
    "takedown.cut_invalid_email": ("メールアドレスとして正しくありません", "not a valid email address"),
    "takedown.cut_own_address": ("当社（公式・グループ）ドメインのアドレスです", "it is the firm's own address (official or group domain)"),
    "takedown.cut_phisher_address": ("通報対象のドメイン自体のアドレスで、送ると犯人に知られます",
                                     "it is at the reported domain itself (would tip off the phisher)"),
    "takedown.no_recipient": ("{domain} の削除依頼の宛先が見つかりません", "no takedown recipient found for {domain}"),
    "takedown.no_recipient_cuts": ("見つかった窓口はすべて除外されました: {cuts}", "every contact found was left out: {cuts}"),
    "takedown.no_recipient_detail": ("RDAP・WHOIS と IP アドレスの RDAP に不正利用窓口がなく、設定にも依頼先がありません。"
                                     "窓口を調べて手動で依頼してください。",
                                     "RDAP/WHOIS and IP RDAP named no abuse contact and none is configured: "
                                     "find the contact and send the request by hand."),
    # --- a request's status, as a person reads it
    "takedown.status.draft": ("下書き", "draft"),
    "takedown.status.queued": ("送信待ち", "queued"),
    "takedown.status.sending": ("送信中", "sending"),
    "takedown.status.sent": ("送信済み", "sent"),
    "takedown.status.failed": ("送信失敗", "failed"),
    "takedown.status.answered": ("返信あり", "answered"),
    "takedown.status.closed": ("完了", "closed"),
    # --- why a request cannot be drafted or moved (TakedownError: the terminal, the dashboard) ---
    "takedown.err.no_snapshot": ("{domain}: まだスナップショットがありません。依頼には証拠が必要です（先に確認してください）",
                                 "{domain}: no snapshot yet; a request needs evidence (check it first)"),
    "takedown.err.already_reported": ("{domain} は通報済みです（未完了の依頼 {n} 件）。確定する必要はありません",
                                      "{domain} is already reported ({n} open requests): nothing to confirm"),
    "takedown.err.not_draft": ("依頼 {id} は「{status}」です。承認できるのは下書きだけです",
                               "request {id} is {status}, only a draft can be approved"),
    "takedown.err.withdraw_reason": ("取り下げには理由が必要です（監査ログに残ります）",
                                     "withdrawing needs a reason (it is kept in the audit log)"),
    "takedown.err.not_withdrawable": ("依頼 {id} は「{status}」のため、今は取り下げられません",
                                      "request {id} is {status}; it cannot be withdrawn now"),
    "takedown.err.empty_reply": ("返信が空です", "an empty reply"),
    "takedown.err.not_sent": ("依頼 {id} は「{status}」です。返信を記録できるのは送信済みの依頼だけです",
                              "request {id} is {status}; only a sent request can be answered"),
    "takedown.err.not_markable": ("依頼 {id} は「{status}」のため、送信済みにできません",
                                  "request {id} is {status}; it cannot be marked sent"),
    "takedown.err.not_resendable": ("依頼 {id} は「{status}」です。再送できるのは送信未確認か失敗した依頼だけです",
                                    "request {id} is {status}; only uncertain or failed ones are re-sent"),
    # --- who a request goes to, as a person reads it (the terminal, the story and the dashboard use these)
    "takedown.recipient.registrar": ("レジストラ", "registrar"),
    "takedown.recipient.hosting": ("ホスティング", "hosting"),
    "takedown.recipient.cdn": ("CDN", "CDN"),
    "takedown.recipient.cert": ("CERT", "CERT"),
    "takedown.recipient.shortener": ("短縮URL事業者", "link shortener"),
    "takedown.recipient.owner": ("サイト所有者", "site owner"),
    "takedown.recipient.other": ("その他", "other"),
    # --- how a request goes out, as a person reads it (the terminal and the dashboard use these)
    "takedown.channel.email": ("メール", "e-mail"),
    "takedown.channel.webform": ("Web フォーム", "web form"),
}
