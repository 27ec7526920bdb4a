package dev.stockade.internal.policy;

import static dev.stockade.internal.policy.ProfileText.show;

import dev.stockade.PolicySyntaxException;
import dev.stockade.PolicySyntaxException.Entry;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompRule;
import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.SyscallNames;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads a whole profile: parses the top file, follows its {@code @include}s (shipped profiles by
 * name, files by path relative to the including file), combines the default actions and checks
 * the result as a whole. Everything wrong in any of the files is reported together in one
 * {@link PolicySyntaxException}.
 *
 * <p>How files combine: an included file's rules are inserted where its {@code @include} line
 * is. A file's own {@code default} line wins over the defaults of the files it includes (so
 * {@code @include build} in a file with {@code default errno(EPERM)} keeps the file's default);
 * a file without one takes its includes' default, which must then agree. A file may have one
 * {@code default} line. The top file must end up with a default action.
 */
public final class PolicyLoader {
    private PolicyLoader() {}

    /** The largest profile file, in bytes. */
    public static final int MAX_FILE_BYTES = 1 << 20;
    /** The most rules a profile may have, includes counted. */
    public static final int MAX_RULES = 10_000;
    /** How deep includes may nest. */
    public static final int MAX_INCLUDE_DEPTH = 16;
    /** The profiles shipped inside the jar (resources under /dev/stockade/seccomp/). */
    public static final List<String> SHIPPED = List.of("build", "strict", "audit");


    /** A loaded profile: its default action and rules, in order. */
    public record Loaded(SeccompAction defaultAction, List<SeccompRule> rules) {}

    /** Where a rule came from, for the whole-profile checks. */
    private record Located(SeccompRule rule, Entry where) {}

    /** One file being expanded, for cycle detection and messages. */
    private record Source(String key, String display, Path directory) {}

    /** A default action and where it was set. */
    private record Default(SeccompAction action, Entry where) {}

    private final List<Entry> problems = new ArrayList<>();
    private final PolicySources sources = new PolicySources(problems);
    private final List<Located> rules = new ArrayList<>();
    /** The top profile's directory (real path): file includes stay below it. */
    private Path includeRoot;
    private final Deque<Source> chain = new ArrayDeque<>();
    private final Map<String, Integer> resolved = new HashMap<>();
    private boolean tooManyRules;

    /** A shipped profile by name. */
    public static Loaded shipped(String name) {
        return new PolicyLoader().finish(name + ".policy", shippedText(name),
                shippedSource(name));
    }

    /**
     * A shipped profile's text as it is in the jar, comments included.
     *
     * @throws PolicySyntaxException when there is no such profile
     */
    public static String shippedText(String name) {
        PolicyLoader l = new PolicyLoader();
        String text = l.sources.readShipped(name, null);
        if (text == null) {
            throw new PolicySyntaxException(name, l.problems);
        }
        return text;
    }

    /** A profile file; relative includes are resolved against its directory. */
    public static Loaded file(Path path) {
        PolicyLoader l = new PolicyLoader();
        Source source = fileSource(path);
        String text = l.sources.readFile(path, source.display(), null);
        if (text == null) {
            throw new PolicySyntaxException(source.display(), l.problems);
        }
        return l.finish(source.display(), text, source);
    }

    /**
     * Profile text; {@code sourceName} names it in messages and, when it is a path with a
     * directory, is where relative includes are resolved (otherwise the working directory).
     */
    public static Loaded text(String text, String sourceName) {
        PolicyLoader l = new PolicyLoader();
        Path dir;
        try {
            Path p = Path.of(sourceName).toAbsolutePath();
            dir = p.getParent() == null ? Path.of("").toAbsolutePath() : p.getParent();
        } catch (RuntimeException e) { // InvalidPathException: a name that is no path
            dir = Path.of("").toAbsolutePath();
        }
        long bytes = PolicySources.utf8Length(text);
        if (bytes > MAX_FILE_BYTES) {
            l.problems.add(new Entry(sourceName, 0, 0, "the profile is " + bytes + " bytes, at"
                    + " most " + MAX_FILE_BYTES));
            throw new PolicySyntaxException(sourceName, l.problems);
        }
        return l.finish(sourceName, text, new Source("text:" + sourceName, sourceName, dir));
    }

    private Loaded finish(String display, String text, Source top) {
        includeRoot = realDirectory(top.directory());
        Default d = expand(top, text, 0);
        if (d == null && rules.isEmpty() && problems.isEmpty()) {
            problems.add(new Entry(display, 0, 0, "the profile is empty: no rules and no"
                    + " default action"));
        } else if (d == null && problems.isEmpty()) {
            problems.add(new Entry(display, 0, 0, "no default action: add a line such as"
                    + " 'default allow' or 'default errno(EPERM)'"));
        }
        if (d != null) {
            checkWhole(d);
        }
        if (!problems.isEmpty()) {
            throw new PolicySyntaxException(display, inFileOrder(problems));
        }
        List<SeccompRule> out = new ArrayList<>(rules.size());
        for (Located r : rules) {
            if (!out.contains(r.rule())) { // a file included twice adds nothing the second time
                out.add(r.rule());
            }
        }
        return new Loaded(d.action(), out);
    }

    /** No line but blanks and comments. */
    private static boolean isEmpty(String text) {
        return text.lines().map(String::strip).allMatch(l -> l.isEmpty() || l.startsWith("#"));
    }

    /** Grouped by file (in the order files first had a problem), by line and column within. */
    private static List<Entry> inFileOrder(List<Entry> entries) {
        Map<String, Integer> fileOrder = new HashMap<>();
        for (Entry e : entries) {
            fileOrder.putIfAbsent(e.source(), fileOrder.size());
        }
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(java.util.Comparator.<Entry>comparingInt(e -> fileOrder.get(e.source()))
                .thenComparingInt(Entry::line).thenComparingInt(Entry::column));
        return sorted;
    }

    /** Parses {@code text} and its includes; returns the file's effective default or null. */
    private Default expand(Source source, String text, int depth) {
        chain.addLast(source);
        try {
            List<PolicyParser.Item> items = PolicyParser.parse(text, source.display(), problems);
            Default own = null;
            Default fromIncludes = null;
            Entry disagreement = null;
            for (PolicyParser.Item item : items) {
                Entry where = new Entry(source.display(), item.line(), item.column(), "");
                if (item instanceof PolicyParser.DefaultItem d) {
                    if (own != null) {
                        problems.add(at(where, "a second default action (the first is on line "
                                + own.where().line() + "): a file has one"));
                    } else {
                        own = new Default(d.action(), where);
                    }
                } else if (item instanceof PolicyParser.RuleItem r) {
                    add(r.rule(), where);
                } else if (item instanceof PolicyParser.IncludeItem inc) {
                    Default d = include(source, inc, where, depth);
                    if (d != null) {
                        if (fromIncludes == null) {
                            fromIncludes = d;
                        } else if (!fromIncludes.action().equals(d.action())
                                && disagreement == null) {
                            disagreement = at(where, "the included profiles disagree on the"
                                    + " default action (" + show(fromIncludes.action())
                                    + " from " + place(fromIncludes.where()) + ", "
                                    + show(d.action()) + " from " + place(d.where()) + "): give"
                                    + " this file its own default line");
                        }
                    }
                }
            }
            if (own == null && disagreement != null) {
                problems.add(disagreement);
            }
            if (depth > 0 && isEmpty(text)) {
                problems.add(new Entry(source.display(), 0, 0, "the included profile is empty:"
                        + " no rules and no default action"));
            }
            return own != null ? own : fromIncludes;
        } finally {
            chain.removeLast();
        }
    }

    private Default include(Source from, PolicyParser.IncludeItem inc, Entry where, int depth) {
        Source target;
        Path file = null;
        if (!inc.file()) {
            if (!SHIPPED.contains(inc.target())) {
                problems.add(at(where, "no shipped profile '" + inc.target() + "' (shipped: "
                        + String.join(", ", SHIPPED) + "; a file is included with a quoted"
                        + " path)"));
                return null;
            }
            target = shippedSource(inc.target());
        } else {
            if (from.directory() == null) {
                problems.add(at(where, "a shipped profile can include only shipped profiles"));
                return null;
            }
            try {
                file = from.directory().resolve(inc.target());
            } catch (RuntimeException e) { // InvalidPathException
                problems.add(at(where, "not a valid path: \"" + inc.target() + "\""));
                return null;
            }
            // A profile may come from an untrusted repository: its includes must not read
            // (and echo in error messages) files outside its own directory.
            Path real = realPathOrNull(file);
            if (Path.of(inc.target()).isAbsolute() || includeRoot == null
                    || (real != null && !real.startsWith(includeRoot))
                    || (real == null && !file.normalize().startsWith(includeRoot))) {
                problems.add(at(where, "\"" + inc.target() + "\" is outside the profile's"
                        + " directory" + (includeRoot == null ? "" : " " + includeRoot)
                        + ": a profile includes only files below its own directory"));
                return null;
            }
            target = fileSource(file);
        }
        for (Source s : chain) {
            if (s.key().equals(target.key())) {
                StringBuilder cycle = new StringBuilder();
                boolean inCycle = false;
                for (Source c : chain) {
                    inCycle |= c.key().equals(target.key());
                    if (inCycle) {
                        cycle.append(c.display()).append(" -> ");
                    }
                }
                cycle.append(target.display());
                problems.add(at(where, "include cycle: " + cycle));
                return null;
            }
        }
        if (depth + 1 > MAX_INCLUDE_DEPTH) {
            problems.add(at(where, "includes nest deeper than " + MAX_INCLUDE_DEPTH));
            return null;
        }
        String text = file != null ? sources.readFile(file, target.display(), where)
                : sources.readShipped(inc.target(), where);
        if (text == null) {
            return null;
        }
        return expand(target, text, depth + 1);
    }

    private static Path realDirectory(Path dir) {
        return dir == null ? null : realPathOrNull(dir);
    }

    private static Path realPathOrNull(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private void add(SeccompRule rule, Entry where) {
        if (rules.size() >= MAX_RULES) {
            if (!tooManyRules) {
                tooManyRules = true;
                problems.add(at(where, "more than " + MAX_RULES + " rules"));
            }
            return;
        }
        Integer nr = resolved.get(rule.syscall());
        if (nr == null) {
            NativeLoader.ensureLoaded();
            nr = SyscallNames.number(rule.syscall());
            resolved.put(rule.syscall(), nr);
        }
        if (nr < 0) {
            problems.add(at(where, "system call '" + rule.syscall() + "' does not exist on this"
                    + " architecture (" + System.getProperty("os.arch") + ")"));
            return;
        }
        rules.add(new Located(rule, where));
    }

    /**
     * The checks that need every rule and the final default ({@link ProfileValidator}): each
     * problem at its rule's line, pitfalls included (a Stockade profile refuses them).
     */
    private void checkWhole(Default d) {
        List<ProfileValidator.Sited<Entry>> sited = new ArrayList<>(rules.size());
        for (Located r : rules) {
            sited.add(new ProfileValidator.Sited<>(r.rule(), r.where()));
        }
        for (ProfileValidator.Problem<Entry> p : ProfileValidator.check(d.action(), d.where(),
                sited, PolicyLoader::place)) {
            problems.add(at(p.site(), p.message()));
        }
    }

    private static Source shippedSource(String name) {
        return new Source("shipped:" + name, name + ".policy", null);
    }

    private static Source fileSource(Path path) {
        Path abs = path.toAbsolutePath().normalize();
        String key;
        try {
            key = "file:" + abs.toRealPath();
        } catch (IOException e) {
            key = "file:" + abs;
        }
        return new Source(key, path.toString(), abs.getParent());
    }

    static Entry at(Entry where, String message) {
        return new Entry(where.source(), where.line(), where.column(), message);
    }

    private static String place(Entry where) {
        return where.source() + ":" + where.line();
    }
}
