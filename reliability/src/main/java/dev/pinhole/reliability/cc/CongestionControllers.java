package dev.pinhole.reliability.cc;

import dev.pinhole.reliability.CongestionControl;

/** Makes the controller a {@link CongestionControl} setting names; the enum itself is API, the controllers are not. */
public final class CongestionControllers {
    private CongestionControllers() {
    }

    /** Creates a controller of the given algorithm for datagrams of at most {@code maxDatagramSize} bytes. */
    public static CongestionController create(CongestionControl algorithm, int maxDatagramSize) {
        return switch (algorithm) {
            case NEW_RENO -> new NewRenoCongestionController(maxDatagramSize);
            case CUBIC -> new CubicCongestionController(maxDatagramSize);
            case BBR -> new BbrCongestionController(maxDatagramSize);
        };
    }
}
