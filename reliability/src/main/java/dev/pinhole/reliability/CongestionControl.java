package dev.pinhole.reliability;

/** The congestion control algorithms a connection can be configured with ({@link TransportConfig}). */
public enum CongestionControl {
    /** RFC 9002 §7 and Appendix B: NewReno, QUIC's reference algorithm. */
    NEW_RENO,
    /** RFC 9438: CUBIC, the default of Linux TCP; yields to loss-based flows more than BBR does. */
    CUBIC,
    /**
     * BBR v1 (draft-cardwell-iccrg-bbr-congestion-control): model-based, paces at the measured bottleneck
     * bandwidth and does not back off on random loss. The default (decision 0006).
     */
    BBR
}
