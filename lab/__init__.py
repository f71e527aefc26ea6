"""The lab: omamori's offline internet on 127.0.0.1 (DNS, CT log, certstream, RDAP, WHOIS, web, SMTP).

Test equipment only: the product never imports it, and it imports nothing from the product.
See lab/README.md.
"""
