package dev.pinhole.reliability.cc;

/** The congestion control algorithms a connection can be configured with. */
public enum CongestionControl {
    /** RFC 9002 §7 and Appendix B: NewReno, QUIC's reference algorithm. */
    NEW_RENO,
    /** RFC 9438: CUBIC, the default of Linux TCP; yields to loss-based flows more than BBR does. */
    CUBIC,
    /**
     * BBR v1 (draft-cardwell-iccrg-bbr-congestion-control): model-based, paces at the measured bottleneck
     * bandwidth and does not back off on random loss. The default (decision 0006).
     */
    BBR;

    /** Creates a controller for datagrams of at most {@code maxDatagramSize} bytes. */
    public CongestionController create(int maxDatagramSize) {
        return switch (this) {
            case NEW_RENO -> new NewRenoCongestionController(maxDatagramSize);
            case CUBIC -> new CubicCongestionController(maxDatagramSize);
            case BBR -> new BbrCongestionController(maxDatagramSize);
        };
    }
}
