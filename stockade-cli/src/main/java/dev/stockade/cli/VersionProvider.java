package dev.stockade.cli;

import dev.stockade.Sandbox;
import picocli.CommandLine.IVersionProvider;

/** {@code --version}: {@link Sandbox#version()}, the version whose natives run. */
final class VersionProvider implements IVersionProvider {

    @Override
    public String[] getVersion() {
        return new String[] {"stockade " + Sandbox.version()};
    }
}
