package dev.warden.cli;

import dev.warden.app.WardenApp;
import dev.warden.common.ErrorCode;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.ledger.Checkpoint;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "ledger", description = "Verify, checkpoint and read the hash-chained ledger.",
        subcommands = {LedgerCommand.Verify.class, LedgerCommand.CheckpointCmd.class, LedgerCommand.Tail.class})
final class LedgerCommand implements Runnable {
    @ParentCommand
    Main main;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "verify", description = "Recompute every chain; exit 1 and name the first bad entry on any tampering.")
    static final class Verify implements Callable<Integer> {
        @ParentCommand
        LedgerCommand ledger;

        @Option(names = "--checkpoint", paramLabel = "FILE", description = "Also detect truncation against a saved checkpoint.")
        Path checkpoint;

        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        @Override
        public Integer call() {
            Optional<Checkpoint> cp = Optional.empty();
            if (checkpoint != null) {
                try {
                    cp = Optional.of(Checkpoint.fromJson(Json.parse(Files.readString(checkpoint))));
                } catch (NoSuchFileException e) {
                    throw WardenException.badInput("--checkpoint: " + checkpoint + " does not exist");
                } catch (IOException e) {
                    throw WardenException.badInput("--checkpoint: cannot read " + checkpoint + ": " + e.getMessage());
                }
            }
            try (WardenApp app = ledger.main.openApp()) {
                Ledger.VerifyReport r = Ledger.verify(app.store(), cp);
                var out = ledger.main.spec.commandLine().getOut();
                if (json) {
                    var n = Json.object().put("ok", r.ok()).put("entries", r.entries()).put("chains", r.chains());
                    r.firstBad().ifPresent(f -> n.putObject("first_bad").put("chain", f.chain()).put("seq", f.seq())
                            .put("problem", f.problem()));
                    out.println(Json.pretty(n));
                } else if (r.ok()) {
                    out.println("ledger OK: " + r.entries() + " entries in " + r.chains() + " chain(s)"
                            + (checkpoint != null ? ", consistent with checkpoint " + checkpoint : ""));
                } else {
                    out.println("ledger BAD: first bad entry: " + r.firstBad().orElseThrow());
                }
                return r.ok() ? 0 : ErrorCode.FAILURE.exitCode();
            }
        }
    }

    @Command(name = "checkpoint", description = "Save the head of every chain to a file (keep it somewhere safe).")
    static final class CheckpointCmd implements Callable<Integer> {
        @ParentCommand
        LedgerCommand ledger;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the checkpoint.")
        Path out;

        @Override
        public Integer call() throws IOException {
            try (WardenApp app = ledger.main.openApp()) {
                Checkpoint cp = Ledger.checkpoint(app.store(), app.clock());
                Path tmp = out.toAbsolutePath().resolveSibling(out.getFileName() + ".tmp");
                try {
                    Files.writeString(tmp, Json.pretty(cp.toJson()) + "\n");
                    Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                } catch (NoSuchFileException | java.nio.file.AccessDeniedException e) {
                    throw WardenException.badInput("--out: cannot write " + out + ": "
                            + (e instanceof NoSuchFileException ? "its directory does not exist" : "permission denied"));
                }
                var d = Json.object().put("file", out.toAbsolutePath().toString());
                var heads = d.putObject("heads");
                cp.heads().forEach((c, h) -> heads.put(c, h.seq()));
                app.ledger().record(app.store(), EventDraft.info("ledger.checkpoint", "operator", null, Actors.cli(), d));
                ledger.main.spec.commandLine().getOut().println("checkpoint of " + cp.heads().size() + " chain(s) written to " + out);
            }
            return 0;
        }
    }

    @Command(name = "tail", description = "Print the most recent ledger entries, one JSON envelope per line.")
    static final class Tail implements Callable<Integer> {
        @ParentCommand
        LedgerCommand ledger;

        @Option(names = {"-n", "--lines"}, paramLabel = "N", defaultValue = "20", description = "How many entries (default 20).")
        int n;

        @Override
        public Integer call() {
            if (n < 1 || n > 100_000) {
                throw WardenException.badInput("--lines: must be between 1 and 100000");
            }
            try (WardenApp app = ledger.main.openApp()) {
                app.store().read(tx -> tx.ledgerTail(n)).forEach(r -> ledger.main.spec.commandLine().getOut().println(r.entry()));
            }
            return 0;
        }
    }
}
