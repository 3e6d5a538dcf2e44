package dev.pinhole.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pinhole id}: prints this node's id and fingerprint, creating its identity on first use. */
@Command(name = "id", mixinStandardHelpOptions = true,
        description = {"Prints your node id (the public key peers will know you by) and its fingerprint (for"
            + " comparing by eye or voice), creating your identity on first use.",
            "The identity is a key file holding two private keys (X25519 for the transport's handshake, Ed25519"
            + " for signatures); send, receive and chat use the same file. It is created with mode 0600 and"
            + " refused if group or others may access it."})
final class IdCommand implements Callable<Integer>, Main.JsonOutput {
    @Option(names = "--identity", paramLabel = "FILE", description = Identities.OPTION_HELP)
    Path identityFile;

    @Option(names = "--json", description = "Print the id as one JSON object.")
    boolean json;

    @Mixin
    Main.Verbosity verbosity;

    @Override
    public boolean json() {
        return json;
    }

    @Override
    public Integer call() throws Exception {
        Identities.Loaded loaded = Identities.loadOrCreate(identityFile);
        if (loaded.created()) {
            System.err.println("pinhole id: created a new identity in " + loaded.file()
                    + " (keep it private: it is this node's long-term key)");
        }
        String file = loaded.file().toAbsolutePath().toString();
        if (json) {
            System.out.println(Json.object().put("ok", true).put("id", loaded.identity().id())
                    .put("fingerprint", loaded.identity().fingerprint()).put("file", file)
                    .put("created", loaded.created()));
        } else {
            System.out.println("id:          " + loaded.identity().id());
            System.out.println("fingerprint: " + loaded.identity().fingerprint());
            System.out.println("file:        " + file);
        }
        return ExitCodes.OK;
    }
}
