package dev.warden.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class UsdTest {
    /** The text format had when it went through BigDecimal. */
    static String reference(long nano) {
        BigDecimal d = Usd.fromNano(nano);
        return d.signum() == 0 ? "0" : d.toPlainString();
    }

    @Test
    void formatIsPlainDecimalTextWithoutTrailingZeros() {
        assertThat(Usd.format(0)).isEqualTo("0");
        assertThat(Usd.format(1)).isEqualTo("0.000000001");
        assertThat(Usd.format(123_000)).isEqualTo("0.000123");
        assertThat(Usd.format(1_000_000_000L)).isEqualTo("1");
        assertThat(Usd.format(-2_500_000_000L)).isEqualTo("-2.5");
        long[] edges = {Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1, -1, 999_999_999, 1_000_000_001, 10, 100_000_000};
        for (long n : edges) {
            assertThat(Usd.format(n)).as("%d", n).isEqualTo(reference(n));
        }
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < 100_000; i++) {
            long n = switch (i % 3) {
                case 0 -> r.nextLong();
                case 1 -> r.nextLong(-10_000_000_000L, 10_000_000_000L);
                default -> r.nextLong(0, 1_000_000) * (long) Math.pow(10, r.nextInt(0, 10));
            };
            assertThat(Usd.format(n)).as("%d", n).isEqualTo(reference(n));
        }
    }
}
