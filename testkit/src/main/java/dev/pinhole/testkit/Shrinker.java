package dev.pinhole.testkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * Proposes simpler variants of a failing scenario, most aggressive first.
 *
 * <p>The runner shrinks greedily: it tries the candidates in order, keeps the first one that still
 * fails, and asks again from there. So a shrinker should put big jumps first (the target value, the
 * empty list) and small steps last (one less, one element fewer), and every candidate must be strictly
 * simpler than its input, or shrinking can cycle until its attempt budget runs out. Streams are consumed
 * lazily: a shrinker may propose many candidates cheaply.
 *
 * <p>Scenario records compose field shrinkers with {@link #byFields}:
 *
 * <pre>{@code
 * record Link(int lossPercent, double delayMs, List<Integer> sizes) {}
 * Shrinker<Link> shrinker = Shrinker.byFields(Link.class)
 *     .field(Link::lossPercent, Shrinker.intsToward(0), (l, v) -> new Link(v, l.delayMs(), l.sizes()))
 *     .field(Link::delayMs, Shrinker.doublesToward(0), (l, v) -> new Link(l.lossPercent(), v, l.sizes()))
 *     .field(Link::sizes, Shrinker.lists(Shrinker.intsToward(1)), (l, v) -> new Link(l.lossPercent(), l.delayMs(), v));
 * }</pre>
 *
 * @param <T> the type of the shrunk values
 */
@FunctionalInterface
public interface Shrinker<T> {

    /** Simpler variants of {@code value}, the most aggressive first; empty if there is nothing simpler. */
    Stream<T> shrink(T value);

    /** Shrinks {@code S} values through this shrinker, converting with {@code to} and back with {@code from}. */
    default <S> Shrinker<S> convert(Function<? super S, ? extends T> to, Function<? super T, ? extends S> from) {
        return value -> shrink(to.apply(value)).map(from);
    }

    /** Never shrinks: for fields that must keep their generated value (a simulator seed, say). */
    static <T> Shrinker<T> none() {
        return value -> Stream.empty();
    }

    /**
     * Ints toward {@code target}: the target itself, then halving the distance (half way, three
     * quarters, ...), ending with one step closer. Use the lower end of the generated range as target.
     */
    static Shrinker<Integer> intsToward(int target) {
        return value -> towardTarget(value, target).mapToObj(v -> (int) v);
    }

    /** Longs toward {@code target}, as {@link #intsToward}. */
    static Shrinker<Long> longsToward(long target) {
        return value -> towardTarget(value, target).boxed();
    }

    /**
     * Doubles toward {@code target}: the target itself ("zero it"), the whole number nearest the
     * target's side, then points ever closer to the value (half way, three quarters, ...).
     */
    static Shrinker<Double> doublesToward(double target) {
        return value -> {
            if (value.equals(target)) {
                return Stream.empty();
            }
            if (!Double.isFinite(value)) {
                return Stream.of(target);
            }
            double distance = Math.abs(value - target);
            List<Double> candidates = new ArrayList<>();
            candidates.add(target);
            candidates.add(value > target ? Math.floor(value) : Math.ceil(value));
            // Eight halvings: past 1/256 of the distance a step rarely changes whether a scenario fails.
            for (int k = 1; k <= 8; k++) {
                candidates.add(value - (value - target) / Math.pow(2, k));
            }
            return candidates.stream()
                    .filter(c -> Math.abs(c - target) < distance)
                    .distinct();
        };
    }

    /** Booleans toward {@code false}. */
    static Shrinker<Boolean> booleans() {
        return value -> value ? Stream.of(false) : Stream.empty();
    }

    /**
     * Values toward the earlier entries of {@code values}: pair it with {@link Gen#elements} and list the
     * simplest choice first (e.g. the most permissive NAT behaviour, the "no impairment" option).
     */
    @SafeVarargs
    static <T> Shrinker<T> towardsEarlier(T... values) {
        // Copied element by element: handing a generic varargs array on would be unsafe (lint "varargs").
        List<T> order = new ArrayList<>(values.length);
        for (T value : values) {
            order.add(Objects.requireNonNull(value));
        }
        return value -> {
            int index = order.indexOf(value);
            return index <= 0 ? Stream.empty() : order.subList(0, index).stream();
        };
    }

    /** An empty optional first, then the present value shrunk with {@code inner}. */
    static <T> Shrinker<Optional<T>> optionals(Shrinker<T> inner) {
        return value -> value.isEmpty()
                ? Stream.empty()
                : Stream.concat(Stream.of(Optional.<T>empty()), inner.shrink(value.get()).map(Optional::of));
    }

    /** Lists of any size, as {@link #lists(Shrinker, int)} with minimum size 0. */
    static <T> Shrinker<List<T>> lists(Shrinker<T> element) {
        return lists(element, 0);
    }

    /**
     * Lists: drop chunks (the whole list down to {@code minSize}, then halves, quarters, ... single
     * elements), then shrink each element in place with {@code element}. Never goes below {@code minSize}.
     */
    static <T> Shrinker<List<T>> lists(Shrinker<T> element, int minSize) {
        Objects.requireNonNull(element, "element");
        return list -> {
            int size = list.size();
            Stream<List<T>> removals = IntStream.iterate(size - minSize, chunk -> chunk > 0, chunk -> chunk / 2)
                    .boxed()
                    .flatMap(chunk -> IntStream.iterate(0, from -> from + chunk <= size, from -> from + chunk)
                            .mapToObj(from -> without(list, from, chunk)));
            Stream<List<T>> elementShrinks = IntStream.range(0, size)
                    .boxed()
                    .flatMap(i -> element.shrink(list.get(i)).map(smaller -> replaced(list, i, smaller)));
            return Stream.concat(removals, elementShrinks);
        };
    }

    /**
     * Byte arrays: truncate to {@code minLength}, then to shorter prefixes (half the extra bytes, all
     * but one), then all bytes zero.
     */
    static Shrinker<byte[]> bytes(int minLength) {
        return value -> {
            int extra = value.length - minLength;
            Stream<byte[]> truncations = IntStream.iterate(extra, cut -> cut > 0, cut -> cut / 2)
                    .mapToObj(cut -> Arrays.copyOf(value, value.length - cut));
            boolean allZero = IntStream.range(0, value.length).allMatch(i -> value[i] == 0);
            return Stream.concat(truncations, allZero ? Stream.empty() : Stream.of(new byte[value.length]));
        };
    }

    /**
     * A shrinker for a record (or any immutable class with copy methods) built from one shrinker per
     * field; see the class comment for an example.
     */
    static <T> RecordShrinker<T> byFields(Class<T> type) {
        return RecordShrinker.empty(type);
    }

    private static LongStream towardTarget(long value, long target) {
        if (value == target) {
            return LongStream.empty();
        }
        long distance;
        try {
            distance = Math.subtractExact(value, target);
        } catch (ArithmeticException overflow) {
            // Only for ranges wider than a long: jump to the target, or to the midpoint, which fits.
            return LongStream.of(target, value / 2 + target / 2);
        }
        return LongStream.iterate(distance, d -> d != 0, d -> d / 2).map(d -> value - d);
    }

    private static <T> List<T> without(List<T> list, int from, int count) {
        List<T> copy = new ArrayList<>(list.size() - count);
        copy.addAll(list.subList(0, from));
        copy.addAll(list.subList(from + count, list.size()));
        return Collections.unmodifiableList(copy);
    }

    private static <T> List<T> replaced(List<T> list, int index, T element) {
        List<T> copy = new ArrayList<>(list);
        copy.set(index, element);
        return Collections.unmodifiableList(copy);
    }
}
