package io.driftagent.agent.e2e;

/**
 * The same execs with the fanotify source: an exec through a descriptor and a 320-character path are classified at the
 * file's exact path in the container. The command line of a process that exits or replaces itself at once is beyond
 * fanotify (it reads /proc while the process lives), so those two cases only check the kind and the path.
 */
class KernelExecFactsFanotifyEndToEndTest extends KernelExecFactsEndToEndTest {

    @Override
    String source() {
        return "fanotify";
    }

    @Override
    boolean argvFromTheKernel() {
        return false;
    }
}
