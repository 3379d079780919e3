/*
 * kvm-probe: is /dev/kvm real and able to run a guest?
 *
 * Built static by tests/lab/build-lab.sh and shipped in the lab as
 * /usr/bin/kvm-probe. Steps, each printed as "kvm-probe: <step> ok|FAIL ...":
 *   open       open("/dev/kvm")
 *   api        KVM_GET_API_VERSION == 12
 *   vm         KVM_CREATE_VM
 *   caps       KVM_CHECK_EXTENSION for what tern relies on (printed, and any
 *              missing one fails the probe)
 *   run        a vCPU in real mode runs "mov $0x42,%al; out %al,$0x10; hlt":
 *              expects KVM_EXIT_IO (port 0x10, byte 0x42), then KVM_EXIT_HLT
 * Exit status 0 when all steps pass, else the number of the first failing
 * step (1..5).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int fail(int step, const char *what)
{
    printf("kvm-probe: %s FAIL (%s)\n", what, strerror(errno));
    return step;
}

int main(void)
{
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        return fail(1, "open");
    printf("kvm-probe: open ok\n");

    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        printf("kvm-probe: api FAIL (version %d)\n", api);
        return 2;
    }
    printf("kvm-probe: api ok version=%d\n", api);

    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        return fail(3, "vm");
    printf("kvm-probe: vm ok\n");

    static const struct {
        int cap;
        const char *name;
    } caps[] = {
        {KVM_CAP_USER_MEMORY, "USER_MEMORY"},
        {KVM_CAP_IRQCHIP, "IRQCHIP"},
        {KVM_CAP_IRQFD, "IRQFD"},
        {KVM_CAP_IOEVENTFD, "IOEVENTFD"},
        {KVM_CAP_IRQ_ROUTING, "IRQ_ROUTING"},
        {KVM_CAP_SIGNAL_MSI, "SIGNAL_MSI"},
        {KVM_CAP_PIT2, "PIT2"},
        {KVM_CAP_EXT_CPUID, "EXT_CPUID"},
        {KVM_CAP_SYNC_MMU, "SYNC_MMU"},
        {KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR"},
        {KVM_CAP_ADJUST_CLOCK, "ADJUST_CLOCK"},
        {KVM_CAP_XSAVE, "XSAVE"},
        {KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT"},
        {KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, "MANUAL_DIRTY_LOG_PROTECT2"},
    };
    int missing = 0;
    printf("kvm-probe: caps");
    for (unsigned i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        int r = ioctl(vm, KVM_CHECK_EXTENSION, caps[i].cap);
        printf(" %s=%d", caps[i].name, r);
        if (r <= 0)
            missing++;
    }
    printf(" NR_VCPUS=%d MAX_VCPUS=%d\n", ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS),
           ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS));
    if (missing) {
        printf("kvm-probe: caps FAIL (%d missing)\n", missing);
        return 4;
    }
    printf("kvm-probe: caps ok\n");

    /* One page of guest memory at 0x1000 holding the code. */
    uint8_t *mem =
        mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return fail(5, "run");
    static const uint8_t code[] = {0xb0, 0x42, 0xe6, 0x10,
                                   0xf4}; /* mov al,0x42; out 0x10,al; hlt */
    memcpy(mem, code, sizeof(code));
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = 0x1000,
        .memory_size = 0x1000,
        .userspace_addr = (uintptr_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return fail(5, "run (set memory)");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        return fail(5, "run (create vcpu)");
    int runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        return fail(5, "run (mmap kvm_run)");
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        return fail(5, "run (get sregs)");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        return fail(5, "run (set sregs)");
    struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        return fail(5, "run (set regs)");

    int saw_io = 0;
    for (int i = 0; i < 10; i++) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
            return fail(5, "run (KVM_RUN)");
        if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x10 &&
            run->io.direction == KVM_EXIT_IO_OUT &&
            *((uint8_t *)run + run->io.data_offset) == 0x42) {
            saw_io = 1;
            continue;
        }
        if (run->exit_reason == KVM_EXIT_HLT && saw_io) {
            printf("kvm-probe: run ok (io 0x10=0x42, hlt)\n");
            return 0;
        }
        printf("kvm-probe: run FAIL (exit_reason %u)\n", run->exit_reason);
        return 5;
    }
    printf("kvm-probe: run FAIL (no hlt)\n");
    return 5;
}
