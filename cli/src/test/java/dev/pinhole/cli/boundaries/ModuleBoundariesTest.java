package dev.pinhole.cli.boundaries;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.pinhole.server.boundaryfixture.ServerCodeReachingIntoThePeerLibrary;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The modules' production code uses another module only through what that module offers it
 * ({@link ModuleBoundaries}): applications get a small API, and the server and the peer library share only the
 * wire formats. Runs here because the command line's test class path holds every production module.
 */
class ModuleBoundariesTest {
    private static final JavaClasses PRODUCTION = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("dev.pinhole");

    @Test
    void noModuleUsesAnotherModulesInternals() {
        List<String> violations = ModuleBoundaries.violations(PRODUCTION);
        assertEquals(List.of(), violations, "cross-module uses of internal packages (offer the package in "
            + "ModuleBoundaries and docs/architecture.md only if it is meant to be shared)");
    }

    @Test
    void everyProductionModuleWasImported() {
        for (String module : ModuleBoundaries.MODULES.keySet()) {
            assertTrue(PRODUCTION.stream().anyMatch(c -> ModuleBoundaries.moduleOf(c.getPackageName())
                    .filter(module::equals).isPresent()),
                "no class of module " + module + " on the test class path: the check would pass vacuously");
        }
    }

    @Test
    void aServerClassUsingThePeerLibrarysInternalsIsCaught() {
        JavaClasses fixture = new ClassFileImporter().importClasses(ServerCodeReachingIntoThePeerLibrary.class);
        List<String> violations = ModuleBoundaries.violations(fixture);
        assertTrue(violations.stream().anyMatch(v -> v.startsWith("server -> punch internal package "
                + "dev.pinhole.punch.rendezvous")), "expected the fixture's use of RendezvousClient: " + violations);
    }

    @Test
    void noProductionClassUsesTheSimulator() {
        List<String> uses = PRODUCTION.stream()
            .flatMap(c -> c.getDirectDependenciesFromSelf().stream())
            .filter(d -> d.getTargetClass().getBaseComponentType().getPackageName().startsWith("dev.pinhole.sim"))
            .map(d -> d.getDescription())
            .toList();
        assertEquals(List.of(), uses, "the simulator is test scope only; production code must not use it");
    }
}
