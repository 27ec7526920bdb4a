package dev.stockade.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * "Did you mean": the known names closest to a misspelt one, by Levenshtein distance. How close
 * is close enough differs by caller (a {@link Tolerance}), the distance does not.
 */
public final class EditDistance {
    private EditDistance() {}

    /** Fewer edits than this are always a plausible typo, however short the name. */
    private static final int MIN_EDITS = 2;
    /** A typed name this long or longer may be part of a longer known name. */
    private static final int MIN_CONTAINED_LENGTH = 3;

    /**
     * When a known name is suggested for a typed one: at most
     * {@code max(2, typed.length() / charsPerEdit)} edits away, or, with {@code containing}, when
     * it contains the typed name (of 3 or more characters) whatever the distance.
     *
     * @param charsPerEdit typed characters per allowed edit beyond the first two
     * @param containing whether a known name containing the typed one is suggested too
     */
    public record Tolerance(int charsPerEdit, boolean containing) {
        public Tolerance {
            if (charsPerEdit < 1) {
                throw new IllegalArgumentException("charsPerEdit " + charsPerEdit
                        + " is not positive");
            }
        }

        boolean accepts(String typed, String known, int distance) {
            return distance <= Math.max(MIN_EDITS, typed.length() / charsPerEdit)
                    || containing && typed.length() >= MIN_CONTAINED_LENGTH
                            && known.contains(typed);
        }
    }

    /**
     * Up to {@code max} of the {@code known} names that {@code tolerance} accepts for
     * {@code typed}, closest first, ties in the order of {@code known}.
     */
    public static List<String> closest(String typed, List<String> known, int max,
            Tolerance tolerance) {
        record Candidate(String name, int distance, int order) {}
        List<Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < known.size(); i++) {
            String name = known.get(i);
            int d = distance(typed, name);
            if (tolerance.accepts(typed, name, d)) {
                candidates.add(new Candidate(name, d, i));
            }
        }
        candidates.sort(Comparator.comparingInt(Candidate::distance)
                .thenComparingInt(Candidate::order));
        List<String> result = new ArrayList<>();
        for (int i = 0; i < candidates.size() && i < max; i++) {
            result.add(candidates.get(i).name());
        }
        return result;
    }

    /**
     * Levenshtein distance, ignoring ASCII case (names are ASCII, and a name typed in the wrong
     * case is the closest typo there is); names are short, so the quadratic table is fine.
     */
    public static int distance(String a, String b) {
        String x = a.toLowerCase(Locale.ROOT);
        String y = b.toLowerCase(Locale.ROOT);
        int[] prev = new int[y.length() + 1];
        int[] cur = new int[y.length() + 1];
        for (int j = 0; j <= y.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= x.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= y.length(); j++) {
                int cost = x.charAt(i - 1) == y.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[y.length()];
    }
}
