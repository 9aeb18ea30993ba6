package dev.warden.web.console;

import java.util.List;
import java.util.Locale;

/** Bar charts as inline SVG: server-rendered, readable without JavaScript, no inline script or style. */
final class Charts {
    private Charts() {}

    /** One group of bars per label; {@code series} values are stacked in order with classes {@code c0}, {@code c1}, …. */
    static String bars(String title, List<String> labels, List<long[]> series, List<String> legend, String unit) {
        int w = 720;
        int h = 180;
        int left = 44;
        int bottom = 24;
        long max = 1;
        for (long[] v : series) {
            long sum = 0;
            for (long x : v) {
                sum += x;
            }
            max = Math.max(max, sum);
        }
        int n = Math.max(1, labels.size());
        double bw = (w - left - 8) / (double) n;
        StringBuilder b = new StringBuilder();
        b.append("<figure class=\"chart\"><figcaption>").append(Html.e(title)).append("</figcaption>");
        b.append("<svg viewBox=\"0 0 ").append(w).append(' ').append(h).append("\" role=\"img\" aria-label=\"").append(Html.e(title)).append("\">");
        b.append("<line class=\"axis\" x1=\"").append(left).append("\" y1=\"").append(h - bottom).append("\" x2=\"").append(w)
                .append("\" y2=\"").append(h - bottom).append("\"/>");
        b.append("<text class=\"tick\" x=\"2\" y=\"12\">").append(Html.e(max + unit)).append("</text>");
        for (int i = 0; i < labels.size(); i++) {
            double x = left + i * bw + 1;
            double y = h - bottom;
            long[] v = series.get(i);
            StringBuilder tip = new StringBuilder(labels.get(i));
            for (int k = 0; k < v.length; k++) {
                double bh = (h - bottom - 16) * (v[k] / (double) max);
                y -= bh;
                if (v[k] > 0) {
                    b.append(String.format(Locale.ROOT, "<rect class=\"c%d\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
                            k, x, y, Math.max(1, bw - 2), bh));
                }
                tip.append(", ").append(legend.get(k)).append(' ').append(v[k]).append(unit);
            }
            b.append(String.format(Locale.ROOT, "<rect class=\"hit\" x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"%d\"><title>%s</title></rect>",
                    x, Math.max(1, bw - 2), h - bottom, Html.e(tip)));
            if (labels.size() <= 14 || i % 3 == 0) {
                b.append(String.format(Locale.ROOT, "<text class=\"tick\" x=\"%.1f\" y=\"%d\">%s</text>", x, h - 6, Html.e(labels.get(i))));
            }
        }
        b.append("</svg><p class=\"legend\">");
        for (int k = 0; k < legend.size(); k++) {
            b.append("<span class=\"key c").append(k).append("\"></span>").append(Html.e(legend.get(k))).append(' ');
        }
        return b.append("</p></figure>").toString();
    }
}
