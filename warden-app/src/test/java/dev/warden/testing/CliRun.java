package dev.warden.testing;

import dev.warden.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

/** One {@code warden} command line run in process against a data directory: exit code, stdout, stderr. */
public record CliRun(int code, String out, String err) {
    public static CliRun in(Path dataDir, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] full = new String[args.length + 2];
        full[0] = "--data-dir";
        full[1] = dataDir.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        int code = Main.execute(full, new PrintWriter(out), new PrintWriter(err));
        return new CliRun(code, out.toString(), err.toString());
    }
}
