#!/usr/bin/env python3
"""Writes the three large pages of tests/data/pages (40_*, 41_*, 42_*): home pages of a
realistic size (250-400 KB: inline CSS and scripts, menus, product grids) whose contacts,
look-alike numbers and social links the unit tests know. Deterministic: same bytes each run.
Usage: tests/data/gen_pages.py [OUTDIR]   (default: tests/data/pages beside this file)"""
import os
import random
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "pages")


def css(rng, n):
    rules = []
    for i in range(n):
        sel = ".%s-%d .%s" % (rng.choice(["elementor", "wp-block", "site", "card", "grid"]), i,
                              rng.choice(["title", "button", "inner", "wrap", "col"]))
        rules.append("%s{margin:%dpx %dpx;padding:%dpx;color:#%06x;font-size:%.2frem}" % (
            sel, rng.randint(0, 40), rng.randint(0, 40), rng.randint(0, 30),
            rng.randint(0, 0xFFFFFF), rng.uniform(0.7, 2.4)))
    return "\n".join(rules)


def script(rng, n):
    lines = ["var wpData = window.wpData || {};"]
    for i in range(n):
        lines.append("wpData.k%d = {id:%d, ts:%d, price:%d.%02d, ver:'%d.%d.%d'};" % (
            i, rng.randint(10**6, 10**9), rng.randint(1600000000, 1800000000),
            rng.randint(1, 999), rng.randint(0, 99), rng.randint(1, 9), rng.randint(0, 20),
            rng.randint(0, 9)))
    return "\n".join(lines)


def menu(rng, words, n):
    return "\n".join('<li class="menu-item menu-item-%d"><a href="/%s/">%s</a></li>' % (
        i, rng.choice(words).lower(), rng.choice(words)) for i in range(n))


def page(head, nav, grid, footer, lang, title, rng):
    return ('<!DOCTYPE html>\n<html lang="%s">\n<head>\n<meta charset="utf-8">\n'
            "<title>%s</title>\n%s\n</head>\n<body>\n<nav><ul>\n%s\n</ul></nav>\n"
            "<main>\n%s\n</main>\n<footer>\n%s\n</footer>\n</body>\n</html>\n" % (
                lang, title, head, nav, grid, footer))


def de_page():
    rng = random.Random(40)
    words = ["Werkzeuge", "Bohrer", "Fräsen", "Zangen", "Service", "Kontakt", "Karriere",
             "Über uns", "Neuheiten", "Angebote", "Katalog", "Händler"]
    head = ("<style>%s</style>\n<script>%s</script>\n"
            '<script type="application/ld+json">{"@context":"https://schema.org",'
            '"@type":"Organization","name":"Werkzeug Krämer GmbH","address":{"@type":'
            '"PostalAddress","streetAddress":"Industriestraße 12","postalCode":"50667",'
            '"addressLocality":"Köln","addressCountry":"DE"}}</script>') % (
                css(rng, 1500), script(rng, 1200))
    items = []
    for i in range(260):
        items.append('<div class="product"><h3>%s %d</h3><p>Art.-Nr. %d · %d,%02d € · '
                     "lieferbar ab %02d.%02d.2026 · EAN %d</p></div>" % (
                         rng.choice(words), i, rng.randint(100000, 999999),
                         rng.randint(5, 2999), rng.randint(0, 99), rng.randint(1, 28),
                         rng.randint(1, 12), rng.randint(4000000000000, 4999999999999)))
    footer = (
        "<p>Werkzeug Krämer GmbH · Industriestraße 12 · 50667 Köln</p>\n"
        '<p>Telefon: <a href="tel:+492211234567">0221 1234567</a> · Fax 0221 / 123 45 68</p>\n'
        "<p>Zentrale: +49 (0)221 1234567 · Service-Hotline 02211234567</p>\n"
        "<p>Mobil: 0171 2345678</p>\n"
        "<p>USt-IdNr.: DE 123 456 789 · HRB 98765 Amtsgericht Köln · "
        "Steuernummer 215/5810/1234</p>\n"
        '<a href="https://twitter.com/kraemer_werkzeug/status/1789012345678901234">'
        "Unser Tweet</a>\n"
        '<a href="https://www.linkedin.com/in/hans-kraemer-founder/">Gründer</a>\n'
        '<a href="https://www.linkedin.com/company/werkzeug-kraemer/">LinkedIn</a>\n'
        '<a href="https://x.com/kraemer_werkzeug">X</a>\n'
        '<a href="https://www.facebook.com/sharer/sharer.php?u=https://kraemer.de">Teilen</a>\n'
        '<a href="https://www.facebook.com/WerkzeugKraemer">Facebook</a>\n')
    return page(head, menu(rng, words, 400), "\n".join(items), footer, "de-DE",
                "Werkzeug Krämer – Profiwerkzeug aus Köln", rng)


def us_page():
    rng = random.Random(41)
    words = ["Candles", "Soap", "Gifts", "Sale", "New", "Holiday", "Wholesale", "Blog",
             "About", "Contact", "Shipping", "Returns"]
    head = "<style>%s</style>\n<script>%s</script>\n" % (css(rng, 1300), script(rng, 1100))
    items = []
    for i in range(300):
        items.append('<div class="card"><h3>%s #%d</h3><p>SKU %d · $%d.%02d · ships '
                     "%d/%d/2026 · %d reviews · ZIP %05d</p></div>" % (
                         rng.choice(words), i, rng.randint(10**7, 10**8 - 1),
                         rng.randint(5, 199), rng.randint(0, 99), rng.randint(1, 12),
                         rng.randint(1, 28), rng.randint(0, 5000), rng.randint(10000, 99999)))
    footer = (
        "<p>Blue Ridge Candle Co. · 12 Lexington Ave · Asheville, NC 28801</p>\n"
        '<p>Call <a href="tel:+18285550131">828-555-0131</a> or text 8285550131</p>\n'
        "<p>Orders: (828) 555-0132 · Toll-free 1 (800) 555-0199</p>\n"
        "<p>NC business license 2023-0012345 · EIN 12-3456789</p>\n"
        '<a href="https://twitter.com/blueridgecandle/status/1712345678901234567">Tweet</a>\n'
        '<a href="https://twitter.com/intent/tweet?text=Candles">Share</a>\n'
        '<a href="https://www.linkedin.com/in/jane-founder">Jane, founder</a>\n'
        '<a href="https://www.linkedin.com/company/blue-ridge-candle">Company</a>\n'
        '<a href="https://www.instagram.com/p/Cabc123/">Post</a>\n'
        '<a href="https://www.instagram.com/blueridgecandle/">Instagram</a>\n'
        '<a href="https://www.youtube.com/watch?v=abc123">Video</a>\n'
        '<a href="https://www.youtube.com/@BlueRidgeCandle">YouTube</a>\n')
    return page(head, menu(rng, words, 350), "\n".join(items), footer, "en-US",
                "Blue Ridge Candle Co. – Hand-poured in Asheville", rng)


def jp_page():
    rng = random.Random(42)
    words = ["製品", "会社概要", "お知らせ", "採用情報", "お問い合わせ", "サポート", "事例"]
    head = "<style>%s</style>\n<script>%s</script>\n" % (css(rng, 1000), script(rng, 900))
    items = []
    for i in range(350):
        items.append("<article><h3>%s %d</h3><p>%d年%d月%d日 更新 · 価格 %d円 · "
                     "型番 %d-%04d · 〒%03d-%04d</p></article>" % (
                         rng.choice(words), i, rng.randint(2015, 2026), rng.randint(1, 12),
                         rng.randint(1, 28), rng.randint(100, 99999), rng.randint(10, 99),
                         rng.randint(0, 9999), rng.randint(100, 999), rng.randint(0, 9999)))
    footer = (
        "<p>株式会社テスト精機 〒100-0005 東京都千代田区丸の内1-1-1</p>\n"
        "<p>電話：03-1234-5678　FAX：03-1234-5679</p>\n"
        '<p>代表 <a href="tel:0312345678">03 1234 5678</a>・フリーダイヤル 0120-123-456</p>\n'
        "<p>法人番号 1234567890123</p>\n"
        '<a href="https://x.com/test_seiki/status/1234567890123456789">ポスト</a>\n'
        '<a href="https://www.youtube.com/channel/UCtestseiki">YouTube</a>\n')
    return page(head, menu(rng, words, 300), "\n".join(items), footer, "ja",
                "株式会社テスト精機 | 精密機器", rng)


for name, text in (("40_large_wordpress_de.html", de_page()), ("41_large_shop_us.html", us_page()),
                   ("42_large_news_jp.html", jp_page())):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        f.write(text)
