package dev.warden.cli;

/** Who an operator action from the command line is attributed to. */
final class Actors {
    private Actors() {}

    static String cli() {
        String user = System.getProperty("user.name", "unknown");
        return "cli:" + user;
    }
}
