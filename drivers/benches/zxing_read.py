"""Reads raw 8-bit grey frames with zxing-cpp (Debian's python3-zxing-cpp), for the QR bench.

stdin: one "PATH WIDTH HEIGHT" per line; stdout: one line per frame, the QR texts found
separated by tabs (empty when none).
"""
import sys

import numpy
import zxingcpp

for line in sys.stdin:
    path, w, h = line.split()
    pixels = numpy.fromfile(path, dtype=numpy.uint8).reshape(int(h), int(w))
    found = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)
    print("\t".join(r.text for r in found), flush=True)
