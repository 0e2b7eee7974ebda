package io.driftagent.systest.kubelet;

import java.math.BigDecimal;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A Kubernetes resource quantity ({@code 160Mi}, {@code 50m}, {@code 1.5}, {@code 2G}) as a number of base units. */
record Quantity(BigDecimal value) {

    private static final Pattern FORM = Pattern.compile("^([0-9]+(?:\\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$");
    private static final Map<String, BigDecimal> SUFFIXES = Map.ofEntries(
            Map.entry("Ki", BigDecimal.valueOf(1L << 10)), Map.entry("Mi", BigDecimal.valueOf(1L << 20)),
            Map.entry("Gi", BigDecimal.valueOf(1L << 30)), Map.entry("Ti", BigDecimal.valueOf(1L << 40)),
            Map.entry("Pi", BigDecimal.valueOf(1L << 50)), Map.entry("Ei", BigDecimal.valueOf(1L << 60)),
            Map.entry("n", new BigDecimal("1e-9")), Map.entry("u", new BigDecimal("1e-6")),
            Map.entry("m", new BigDecimal("1e-3")), Map.entry("k", new BigDecimal("1e3")),
            Map.entry("M", new BigDecimal("1e6")), Map.entry("G", new BigDecimal("1e9")),
            Map.entry("T", new BigDecimal("1e12")), Map.entry("P", new BigDecimal("1e15")),
            Map.entry("E", new BigDecimal("1e18")));

    Quantity {
        if (value.signum() < 0) {
            throw new IllegalArgumentException("a resource quantity is not negative: " + value);
        }
    }

    static Quantity parse(String text) {
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a Kubernetes quantity: '" + text + "'");
        }
        BigDecimal number = new BigDecimal(m.group(1));
        return new Quantity(m.group(2) == null ? number : number.multiply(SUFFIXES.get(m.group(2))));
    }

    /** Rounded up, as kubelet rounds a resourceFieldRef. */
    long ceilDividedBy(Quantity divisor) {
        return value.divide(divisor.value, 0, java.math.RoundingMode.CEILING).longValueExact();
    }

    long millis() {
        return value.movePointRight(3).setScale(0, java.math.RoundingMode.CEILING).longValueExact();
    }

    long units() {
        return value.setScale(0, java.math.RoundingMode.CEILING).longValueExact();
    }
}
