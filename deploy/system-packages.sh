#!/bin/sh
# The Debian / Ubuntu packages attendd uses beyond Python, installed only when missing:
#   fonts-wqy-microhei  a TrueType Chinese font the PDF bulletin embeds (reportlab cannot embed
#                       PostScript-outline fonts such as Noto Sans CJK); any other TrueType CJK
#                       font works too: set [bulletin] font = PATH
#   chromium            (--test only) the real browser the bulletin's HTML test renders in
#   libreoffice-writer-nogui, poppler-utils
#                       (--test only) the DOCX bulletin's test converts it to PDF (soffice
#                       --headless) and renders a page to PNG (pdftoppm)
# Needs root (or sudo) only when something is missing; elsewhere it says what to install and exits 0,
# so the tests that need these skip with that reason (under CI=true they fail instead).
set -eu
want=""
fc-list 2>/dev/null | grep -qi 'wqy\|uming\|simhei\|simsun\|msyh' || want="$want fonts-wqy-microhei"
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || want="$want chromium"
  command -v soffice >/dev/null 2>&1 || want="$want libreoffice-writer-nogui"
  command -v pdftoppm >/dev/null 2>&1 || want="$want poppler-utils"
fi
[ -z "$want" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing:$want" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $want >/dev/null || {
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $want >/dev/null; }
elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "installing:$want" >&2
  sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $want >/dev/null
else
  echo "attendd: please install:$want (Debian/Ubuntu package names)" >&2
fi
