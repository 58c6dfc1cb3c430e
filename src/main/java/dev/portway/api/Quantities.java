package dev.portway.api;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Optional;

/**
 * Resource quantities ({@code 500m}, {@code 1Gi}, {@code 1e3}) as
 * {@code k8s.io/apimachinery/pkg/api/resource} parses, compares and prints them. Errors print a
 * quantity in canonical form: {@code 0.5} is {@code 500m}, {@code 1024Mi} is {@code 1Gi}.
 */
public final class Quantities {

    /** The message the API server's decoder gives for a string that is not a quantity. */
    public static final String SYNTAX_ERROR =
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

    private static final Pattern SPLIT = Pattern.compile("^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$");
    private static final BigDecimal K1024 = BigDecimal.valueOf(1024);

    /** How a quantity was written, which decides how it prints. */
    public enum Format { DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT }

    /** A parsed quantity: its exact value (rounded up to nanos, as Kubernetes does) and its format. */
    public record Parsed(BigDecimal value, Format format) {
    }

    /** The longest number part a quantity may have, and its largest exponent (either way). */
    private static final int MAX_DIGITS = 1000;
    private static final int MAX_EXPONENT = 9999;

    private Quantities() {
    }

    /** The text of a quantity as written in the manifest. */
    public static String text(Quantity q) {
        if (q == null) {
            return "";
        }
        String amount = q.getAmount() == null ? "" : q.getAmount();
        String format = q.getFormat() == null ? "" : q.getFormat();
        return amount + format;
    }

    public static Optional<Parsed> parse(Quantity q) {
        return parse(text(q));
    }

    /** {@code resource.ParseQuantity}: empty when the string is not a quantity. */
    public static Optional<Parsed> parse(String s) {
        if (s == null || s.isEmpty()) {
            return Optional.empty();
        }
        Matcher m = SPLIT.matcher(s);
        if (!m.matches()) {
            return Optional.empty();
        }
        String number = m.group(1);
        String suffix = m.group(2);
        if (number.length() > MAX_DIGITS) {
            // Kubernetes takes 1e1000000 as it takes 1e3, but every use of such a value (its rounding to
            // nano, its canonical form, a sum, a comparison) makes a number of that many digits, in time
            // that grows with their square: 1e1000000 kept the API's event loop for minutes. No quantity
            // of anything has more than a thousand digits or an exponent past 9999.
            return Optional.empty();
        }
        if (number.chars().filter(c -> c == '.').count() > 1 || number.matches("[+-]?\\.?")) {
            return Optional.empty();
        }
        BigDecimal value;
        try {
            value = new BigDecimal(number.endsWith(".") ? number.substring(0, number.length() - 1) : number);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        Format format;
        switch (suffix) {
            case "" -> format = Format.DECIMAL_SI;
            case "n" -> { value = value.scaleByPowerOfTen(-9); format = Format.DECIMAL_SI; }
            case "u" -> { value = value.scaleByPowerOfTen(-6); format = Format.DECIMAL_SI; }
            case "m" -> { value = value.scaleByPowerOfTen(-3); format = Format.DECIMAL_SI; }
            case "k" -> { value = value.scaleByPowerOfTen(3); format = Format.DECIMAL_SI; }
            case "M" -> { value = value.scaleByPowerOfTen(6); format = Format.DECIMAL_SI; }
            case "G" -> { value = value.scaleByPowerOfTen(9); format = Format.DECIMAL_SI; }
            case "T" -> { value = value.scaleByPowerOfTen(12); format = Format.DECIMAL_SI; }
            case "P" -> { value = value.scaleByPowerOfTen(15); format = Format.DECIMAL_SI; }
            case "E" -> { value = value.scaleByPowerOfTen(18); format = Format.DECIMAL_SI; }
            case "Ki" -> { value = value.multiply(K1024); format = Format.BINARY_SI; }
            case "Mi" -> { value = value.multiply(K1024.pow(2)); format = Format.BINARY_SI; }
            case "Gi" -> { value = value.multiply(K1024.pow(3)); format = Format.BINARY_SI; }
            case "Ti" -> { value = value.multiply(K1024.pow(4)); format = Format.BINARY_SI; }
            case "Pi" -> { value = value.multiply(K1024.pow(5)); format = Format.BINARY_SI; }
            case "Ei" -> { value = value.multiply(K1024.pow(6)); format = Format.BINARY_SI; }
            default -> {
                if (!suffix.matches("[eE][-+]?[0-9]+")) {
                    return Optional.empty();
                }
                int exponent;
                try {
                    exponent = Integer.parseInt(suffix.substring(1).replace("+", ""));
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
                if (Math.abs(exponent) > MAX_EXPONENT) {
                    return Optional.empty(); // as MAX_DIGITS
                }
                value = value.scaleByPowerOfTen(exponent);
                format = Format.DECIMAL_EXPONENT;
            }
        }
        // Kubernetes keeps nano precision and rounds anything finer up.
        value = value.setScale(Math.max(0, Math.min(9, value.scale())), RoundingMode.CEILING);
        if (value.scale() > 9) {
            value = value.setScale(9, RoundingMode.CEILING);
        }
        return Optional.of(new Parsed(value.stripTrailingZeros(), format));
    }

    /** {@code Quantity.String()}: the canonical form, or the text itself when it does not parse. */
    public static String canonical(Quantity q) {
        return parse(q).map(Quantities::canonical).orElse(text(q));
    }

    public static String canonical(Parsed p) {
        BigDecimal v = p.value();
        Format format = p.format();
        if (format == Format.BINARY_SI) {
            if (v.compareTo(K1024.negate()) > 0 && v.compareTo(K1024) < 0) {
                format = Format.DECIMAL_SI;
            } else if (v.stripTrailingZeros().scale() > 0) {
                format = Format.DECIMAL_SI;
            }
        }
        if (v.signum() == 0) {
            return "0";
        }
        if (format == Format.BINARY_SI) {
            BigInteger n = v.toBigIntegerExact();
            int exponent = 0;
            BigInteger k = BigInteger.valueOf(1024);
            while (exponent < 6 && n.mod(k).signum() == 0) {
                n = n.divide(k);
                exponent++;
            }
            String[] suffixes = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
            return n + suffixes[exponent];
        }
        // Decimal: the largest exponent that is a multiple of 3 and leaves an integer mantissa.
        BigDecimal stripped = v.stripTrailingZeros();
        int exponent = -stripped.scale();
        exponent = Math.floorDiv(exponent, 3) * 3;
        BigInteger mantissa = stripped.scaleByPowerOfTen(-exponent).toBigIntegerExact();
        if (format == Format.DECIMAL_EXPONENT) {
            return exponent == 0 ? mantissa.toString() : mantissa + "e" + exponent;
        }
        if (exponent > 18) {
            mantissa = mantissa.multiply(BigInteger.TEN.pow(exponent - 18));
            exponent = 18;
        }
        String suffix = switch (exponent) {
            case -9 -> "n";
            case -6 -> "u";
            case -3 -> "m";
            case 0 -> "";
            case 3 -> "k";
            case 6 -> "M";
            case 9 -> "G";
            case 12 -> "T";
            case 15 -> "P";
            case 18 -> "E";
            default -> null;
        };
        if (suffix == null) {
            return stripped.toPlainString();
        }
        return mantissa + suffix;
    }
}
