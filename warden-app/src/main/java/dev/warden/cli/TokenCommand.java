package dev.warden.cli;

import dev.warden.app.ConsoleToken;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.ledger.EventDraft;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "token", description = "The console/API token.", subcommands = TokenCommand.Rotate.class)
final class TokenCommand implements Runnable {
    @ParentCommand
    Main main;

    @Override
    public void run() {
        main.spec.commandLine().getSubcommands().get("token").usage(main.spec.commandLine().getOut());
    }

    @Command(name = "rotate", description = "Replace the console token: the running server switches to the new one at once "
            + "and every console session made with the old one ends. Prints the new token.")
    static final class Rotate implements Callable<Integer> {
        @ParentCommand
        TokenCommand parent;

        @Override
        public Integer call() {
            try (WardenApp app = parent.main.openApp()) {
                ConsoleToken.Rotated r = ConsoleToken.rotate(app.dataDir());
                app.ledger().record(app.store(), EventDraft.info("console.token.rotated", "console", "console", Actors.cli(),
                        Json.object().put("old", r.oldFingerprint()).put("new", ConsoleToken.fingerprint(r.token()))));
                parent.main.spec.commandLine().getOut().println(r.token());
                parent.main.spec.commandLine().getErr().println("console token rotated (kept in "
                        + app.dataDir().resolve(ConsoleToken.FILE_NAME) + ", mode 0600); old sessions have ended");
            }
            return 0;
        }
    }
}
