# shellcheck shell=bash
# html_checks PAGE TAG WANT: a page of swack diagnose --html, checked as a
# person would see it: self-contained, rendered by headless Chromium without
# error, with the timeline elements WANT (space-separated), and a screenshot.
# Its files go to $HTML_DIR (set it first).
html_checks() {
	local page=$1 tag=$2 want=$3 dom png
	dom=$HTML_DIR/$tag.dom png=$HTML_DIR/$tag.png
	expect_eq "$tag: HTML refers to nothing outside itself" 0 \
		"$(grep -ciE '(src|href|url)[[:space:]]*[=(][[:space:]]*["'\'']?[a-z]+://|https?://' "$page")"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--dump-dom "file://$page" >"$dom" 2>"$HTML_DIR/$tag.chromium.err"
	expect_match "$tag: the page's script ran without error" '<body data-rendered="ok">' "$(grep -o '<body[^>]*>' "$dom")"
	expect_eq "$tag: no error written into the page" '<div id="errors"></div>' "$(grep -o '<div id="errors">[^<]*</div>' "$dom")"
	expect_eq "$tag: timeline elements" "$want" "$(python3 - "$dom" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
have = []
for name, pat in [("lane-src", r'id="lane-src-0"'), ("lane-dst", r'id="lane-dst-0"'),
                  ("phases", r'class="phase phase-'), ("iterations", r'class="iteration"'),
                  ("pending", r'id="pending-0"'), ("acks", r'class="acks '),
                  ("initial", r'class="initial '), ("downtime", r'id="downtime-0"'),
                  ("zoom", r'id="downtime-zoom-0".*class="zoom-phase"')]:
    if re.search(pat, dom):
        have.append(name)
print(" ".join(have))
PY
)"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--screenshot="$png" --window-size=1100,1000 "file://$page" 2>>"$HTML_DIR/$tag.chromium.err"
	expect_eq "$tag: screenshot is a PNG of >= 8 colours and >= 10 kB" ok "$(python3 - "$png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h, bpp = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        bpp = {2: 3, 6: 4}[ctype]
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev, colours, pos = bytearray(stride), set(), 0
for r in range(h):
    kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
    pos += 1 + stride
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if kind == 1: line[i] = (line[i] + a) & 255
        elif kind == 2: line[i] = (line[i] + b) & 255
        elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if r % 5 == 0:
        colours.update(bytes(line[x:x + 3]) for x in range(0, stride, bpp * 3))
print("ok" if len(data) >= 10000 and len(colours) >= 8 else "%d bytes, %d colours" % (len(data), len(colours)))
PY
)"
}

