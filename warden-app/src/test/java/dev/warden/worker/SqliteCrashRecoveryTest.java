package dev.warden.worker;

import java.util.Optional;

class SqliteCrashRecoveryTest extends CrashRecoveryContract {
    @Override
    Optional<String> storeUrl() {
        return Optional.empty();
    }
}
