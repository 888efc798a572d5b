#!/usr/bin/python3
"""Write build/config.h from a .config: every bool as 0/1, ints as numbers.

kconfiglib's own genconfig leaves disabled bools undefined, which would force
#ifdef; we want every symbol defined so code can use #if and -Wundef.
"""
import sys
import kconfiglib

def main():
    kconf, dotconfig, out = sys.argv[1:4]
    k = kconfiglib.Kconfig(kconf, warn_to_stderr=False)
    k.load_config(dotconfig)
    lines = ["/* Generated from %s by src/gen_config.py: do not edit. */" % dotconfig,
             "#ifndef POSTNOOK_CONFIG_H", "#define POSTNOOK_CONFIG_H"]
    for sym in k.unique_defined_syms:
        if sym.type == kconfiglib.BOOL:
            lines.append("#define CONFIG_%s %d" % (sym.name, 1 if sym.str_value == "y" else 0))
        elif sym.type in (kconfiglib.INT, kconfiglib.HEX):
            val = sym.str_value or "0"
            lines.append("#define CONFIG_%s %s" % (sym.name, val))
        elif sym.type == kconfiglib.STRING:
            lines.append('#define CONFIG_%s "%s"' % (sym.name, sym.str_value.replace('"', '\\"')))
    lines.append("#endif")
    text = "\n".join(lines) + "\n"
    try:
        with open(out) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    with open(out, "w") as f:
        f.write(text)

main()
