package dev.warden.model;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Money as whole nano-dollars (1e-9 USD) in a {@code long}: exact to add and compare across
 * threads and both stores; a price per million tokens becomes {@code price * 1000} nano-USD per token.
 */
public final class Usd {
    private static final BigDecimal NANO = BigDecimal.valueOf(1_000_000_000L);

    private Usd() {}

    public static long toNano(BigDecimal usd) {
        return usd.multiply(NANO).setScale(0, RoundingMode.CEILING).longValueExact();
    }

    public static BigDecimal fromNano(long nano) {
        return BigDecimal.valueOf(nano).divide(NANO).stripTrailingZeros();
    }

    /** The cost of {@code tokens} at {@code pricePer1m} USD per million tokens, rounded up to a whole nano-dollar. */
    public static long cost(long tokens, BigDecimal pricePer1m) {
        return BigDecimal.valueOf(tokens).multiply(pricePer1m).multiply(BigDecimal.valueOf(1000))
                .setScale(0, RoundingMode.CEILING).longValueExact();
    }

    /** Plain decimal text, e.g. {@code 0.000123}. */
    public static String format(long nano) {
        if (nano == 0) {
            return "0";
        }
        if (nano == Long.MIN_VALUE) {
            return fromNano(nano).toPlainString();
        }
        // the same text as BigDecimal's, without it (every model call formats two amounts)
        long abs = Math.abs(nano);
        long whole = abs / 1_000_000_000L;
        long frac = abs % 1_000_000_000L;
        StringBuilder b = new StringBuilder(24);
        if (nano < 0) {
            b.append('-');
        }
        b.append(whole);
        if (frac != 0) {
            String digits = Long.toString(frac);
            b.append('.');
            for (int i = digits.length(); i < 9; i++) {
                b.append('0');
            }
            int end = digits.length();
            while (digits.charAt(end - 1) == '0') {
                end--;
            }
            b.append(digits, 0, end);
        }
        return b.toString();
    }
}
