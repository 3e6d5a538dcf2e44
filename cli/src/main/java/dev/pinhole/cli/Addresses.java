package dev.pinhole.cli;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import picocli.CommandLine;

/** Parses {@code HOST:PORT} and {@code [IPv6]:PORT}, resolving the host once. */
public final class Addresses implements CommandLine.ITypeConverter<InetSocketAddress> {
    @Override
    public InetSocketAddress convert(String value) {
        return parse(value);
    }

    public static InetSocketAddress parse(String value) {
        String host;
        String port;
        if (value.startsWith("[")) {
            int close = value.indexOf(']');
            if (close < 0 || close + 1 >= value.length() || value.charAt(close + 1) != ':') {
                throw bad(value, "expected [IPv6]:PORT");
            }
            host = value.substring(1, close);
            port = value.substring(close + 2);
        } else {
            int colon = value.lastIndexOf(':');
            if (colon <= 0 || value.indexOf(':') != colon) {
                throw bad(value, "expected HOST:PORT");
            }
            host = value.substring(0, colon);
            port = value.substring(colon + 1);
        }
        int portNumber;
        try {
            portNumber = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw bad(value, "the port is not a number");
        }
        if (portNumber < 0 || portNumber > 65_535) {
            throw bad(value, "the port is outside 0-65535");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), portNumber);
        } catch (UnknownHostException e) {
            throw bad(value, "unknown host " + host);
        }
    }

    private static CommandLine.TypeConversionException bad(String value, String why) {
        return new CommandLine.TypeConversionException("bad address '" + value + "': " + why);
    }

    /** IP:PORT for output, with IPv6 in brackets. */
    public static String format(InetSocketAddress address) {
        if (address == null) {
            return null;
        }
        String ip = address.getAddress() == null ? address.getHostString() : address.getAddress().getHostAddress();
        return ip.indexOf(':') >= 0 ? "[" + ip + "]:" + address.getPort() : ip + ":" + address.getPort();
    }
}
