package dev.pinhole.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Shrinks a record field by field: for each field in the order they were added, every candidate of
 * that field's shrinker, with the other fields unchanged. Immutable; {@link #field} returns a new
 * shrinker. Made by {@link Shrinker#byFields}.
 *
 * @param <T> the record type
 */
public final class RecordShrinker<T> implements Shrinker<T> {

    private final Class<T> type;
    private final List<Shrinker<T>> fields;

    private RecordShrinker(Class<T> type, List<Shrinker<T>> fields) {
        this.type = type;
        this.fields = fields;
    }

    static <T> RecordShrinker<T> empty(Class<T> type) {
        return new RecordShrinker<>(Objects.requireNonNull(type, "type"), List.of());
    }

    /**
     * This shrinker plus one field.
     *
     * @param getter reads the field, e.g. {@code Link::lossPercent}
     * @param shrinker shrinks the field's value
     * @param wither returns a copy of the record with the field replaced, e.g.
     *     {@code (l, v) -> new Link(v, l.delayMs())}
     */
    public <F> RecordShrinker<T> field(
            Function<? super T, ? extends F> getter,
            Shrinker<F> shrinker,
            BiFunction<? super T, ? super F, ? extends T> wither) {
        Objects.requireNonNull(getter, "getter");
        Objects.requireNonNull(shrinker, "shrinker");
        Objects.requireNonNull(wither, "wither");
        List<Shrinker<T>> more = new ArrayList<>(fields);
        more.add(value -> shrinker.shrink(getter.apply(value)).map(smaller -> wither.apply(value, smaller)));
        return new RecordShrinker<>(type, List.copyOf(more));
    }

    @Override
    public Stream<T> shrink(T value) {
        return fields.stream().flatMap(field -> field.shrink(value));
    }

    @Override
    public String toString() {
        return "RecordShrinker[" + type.getSimpleName() + ", " + fields.size() + " fields]";
    }
}
