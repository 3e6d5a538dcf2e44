package dev.pinhole.cli;

import java.util.Locale;
import picocli.CommandLine;

/** Parses byte counts such as {@code 4096}, {@code 8MiB}, {@code 256M}, {@code 1GiB} (binary units). */
public final class Sizes implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        long multiplier = 1;
        for (String[] unit : new String[][] {{"kib", "10"}, {"mib", "20"}, {"gib", "30"}, {"k", "10"}, {"m", "20"},
                {"g", "30"}, {"b", "0"}}) {
            if (v.endsWith(unit[0])) {
                multiplier = 1L << Integer.parseInt(unit[1]);
                v = v.substring(0, v.length() - unit[0].length()).trim();
                break;
            }
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0 || n > Long.MAX_VALUE / multiplier) {
                throw new CommandLine.TypeConversionException("bad size '" + value + "': out of range");
            }
            return n * multiplier;
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("bad size '" + value + "': expected a number of bytes"
                    + " with an optional KiB, MiB or GiB");
        }
    }
}
