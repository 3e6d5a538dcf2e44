/**
 * Seeded property tests for Pinhole: generate random scenarios, check each one, and when one fails,
 * shrink it and print how to replay it.
 *
 * <ul>
 *   <li>{@link dev.pinhole.testkit.Gen}: a generator over a seeded {@code RandomGenerator}, with ranges,
 *       probabilities, choices, optionals, byte arrays and lists.</li>
 *   <li>{@link dev.pinhole.testkit.Shrinker}: simpler candidates of a failing value; per-field composition
 *       for scenario records with {@link dev.pinhole.testkit.Shrinker#byFields}.</li>
 *   <li>{@link dev.pinhole.testkit.Property}: the runner;
 *       {@link dev.pinhole.testkit.PropertyFailedError} the report.</li>
 * </ul>
 *
 * <pre>{@code
 * record Link(int lossPercent, int payloadBytes, long simSeed) {}
 *
 * Gen<Link> links = r -> new Link(Gen.ints(0, 30).next(r), Gen.ints(1, 1400).next(r), r.nextLong());
 * Shrinker<Link> shrinker = Shrinker.byFields(Link.class)
 *     .field(Link::lossPercent, Shrinker.intsToward(0), (l, v) -> new Link(v, l.payloadBytes(), l.simSeed()))
 *     .field(Link::payloadBytes, Shrinker.intsToward(1), (l, v) -> new Link(l.lossPercent(), v, l.simSeed()));
 *
 * @Test
 * void bytesArriveInOrder() {
 *     Property.forAll(links).shrinkWith(shrinker).scale(0.1).check(link -> {
 *         assertEquals(expected(link), simulate(link), "bytes delivered");
 *     });
 * }
 * }</pre>
 *
 * Run more scenarios with {@code -Dpinhole.scenarios=N}, other ones with {@code -Dpinhole.seedBase=B},
 * and exactly one with {@code -Dpinhole.seed=S} (the failure report prints the whole command).
 * The leak check that fails tests on unreleased Netty buffers is in {@code dev.pinhole.testkit.leak}.
 */
package dev.pinhole.testkit;
