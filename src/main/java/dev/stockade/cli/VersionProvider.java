package dev.stockade.cli;

import dev.stockade.internal.NativeLoader;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code --version}: the version the natives are extracted under, which a test keeps equal to
 * the one in pom.xml, so the number printed is the one whose natives run.
 */
final class VersionProvider implements IVersionProvider {

    @Override
    public String[] getVersion() {
        return new String[] {"stockade " + NativeLoader.VERSION};
    }
}
