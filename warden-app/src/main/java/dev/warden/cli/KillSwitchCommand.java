package dev.warden.cli;

import dev.warden.app.WardenApp;
import dev.warden.common.WardenException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "killswitch", description = "Stop everything (on), resume (off), or show the state (status).")
final class KillSwitchCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Parameters(paramLabel = "on|off|status")
    String action;

    @Override
    public Integer call() {
        if (!action.equals("on") && !action.equals("off") && !action.equals("status")) {
            throw WardenException.badInput("killswitch: '" + action + "' is not one of on, off, status");
        }
        try (WardenApp app = main.openApp()) {
            if (!action.equals("status")) {
                app.killSwitch().set(action.equals("on"), Actors.cli());
            }
            boolean on = app.killSwitch().isOn();
            main.spec.commandLine().getOut().println("killswitch=" + (on ? "ON" : "OFF")
                    + (app.killSwitch().fileOn() ? " (file " + app.killSwitch().file() + " present)" : ""));
        }
        return 0;
    }
}
