/*
 * kvm-all.c: the KVM accelerator: the VM with its in-kernel irqchip (PIC, IOAPIC, LAPICs)
 * and PIT, guest RAM in memory slots and their dirty log (for migration), GSI routing
 * with MSI routes and irqfds, ioeventfds, and the run-state hook that starts and stops
 * the vCPUs (kvm-vcpu.c) and freezes the guest's kvm-clock while the VM is stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "accel/kvm.h"
#include "error.h"
#include "hw/irq.h"
#include "hw/memory.h"
#include "kvm-internal.h"
#include "migration/ram.h"
#include "runstate.h"

/* GSIs 0-23 are the IOAPIC pins (0-15 also the PICs'); MSI routes take GSIs above. */
#define KVM_IOAPIC_PINS 24
#define KVM_MAX_GSI 1024

/* The accelerator instance: one VM per process. */
static struct {
    KvmState *s;
    VMChangeStateEntry *runstate_notifier;
} kvm;

/* An ioctl retried on EINTR (a kick may land in any of them); -errno on failure. */
static int ioctl_retry(int fd, unsigned long req, void *arg)
{
    int r;
    do {
        r = ioctl(fd, req, arg);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

int kvm_vm_ioctl(KvmState *s, unsigned long req, void *arg)
{
    return ioctl_retry(s->vm_fd, req, arg);
}

int kvm_vcpu_ioctl(KvmVcpu *v, unsigned long req, void *arg)
{
    return ioctl_retry(v->fd, req, arg);
}

bool kvm_has_cap(KvmState *s, int cap)
{
    return ioctl(s->vm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

KvmState *kvm_state_get(void)
{
    return kvm.s;
}

bool kvm_enabled(void)
{
    return kvm.s != NULL;
}

unsigned kvm_vcpu_count(void)
{
    return kvm.s ? kvm.s->ncpus : 0;
}

bool kvm_set_boot_entry(const KvmBootEntry *e, GError **errp)
{
    g_return_val_if_fail(kvm.s && kvm.s->vcpus, false);
    return kvm_vcpu_set_boot_entry(&kvm.s->vcpus[0], e, errp);
}

/* --- GSI routing ---------------------------------------------------------------------- */

static void routes_add(KvmState *s, const struct kvm_irq_routing_entry *e)
{
    if (s->nroutes == s->routes_cap) {
        s->routes_cap = s->routes_cap ? 2 * s->routes_cap : 64;
        s->routes = g_renew(struct kvm_irq_routing_entry, s->routes, s->routes_cap);
    }
    s->routes[s->nroutes++] = *e;
}

/* KVM's own default table (kvm_setup_default_irq_routing): GSI n to PIC pin n (master
 * for 0-7, slave for 8-15) and IOAPIC pin n. We must repeat it because
 * KVM_SET_GSI_ROUTING replaces the whole table. */
static void routes_init_default(KvmState *s)
{
    for (unsigned gsi = 0; gsi < KVM_IOAPIC_PINS; gsi++) {
        if (gsi < 16) {
            struct kvm_irq_routing_entry pic = {
                .gsi = gsi,
                .type = KVM_IRQ_ROUTING_IRQCHIP,
                .u.irqchip = {gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
                              gsi % 8},
            };
            routes_add(s, &pic);
        }
        struct kvm_irq_routing_entry ioapic = {
            .gsi = gsi,
            .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = {KVM_IRQCHIP_IOAPIC, gsi},
        };
        routes_add(s, &ioapic);
    }
    s->next_gsi = KVM_IOAPIC_PINS;
    s->free_gsis = g_array_new(FALSE, FALSE, sizeof(int));
}

static bool routes_commit(KvmState *s)
{
    g_autofree struct kvm_irq_routing *r =
        g_malloc0(sizeof(*r) + s->nroutes * sizeof(r->entries[0]));
    r->nr = s->nroutes;
    memcpy(r->entries, s->routes, s->nroutes * sizeof(r->entries[0]));
    int rc = kvm_vm_ioctl(s, KVM_SET_GSI_ROUTING, r);
    if (rc < 0) {
        g_warning("kvm: KVM_SET_GSI_ROUTING: %s", g_strerror(-rc));
        return false;
    }
    return true;
}

static struct kvm_irq_routing_entry *route_find(KvmState *s, int gsi)
{
    for (unsigned i = KVM_IOAPIC_PINS; i < s->nroutes; i++) {
        if ((int)s->routes[i].gsi == gsi) {
            return &s->routes[i];
        }
    }
    return NULL;
}

static int kvm_msi_route_add(uint64_t addr, uint32_t data)
{
    KvmState *s = kvm.s;
    int gsi;
    if (s->free_gsis->len) {
        gsi = g_array_index(s->free_gsis, int, s->free_gsis->len - 1);
        g_array_set_size(s->free_gsis, s->free_gsis->len - 1);
    } else if (s->next_gsi < KVM_MAX_GSI) {
        gsi = s->next_gsi++;
    } else {
        return -1;
    }
    struct kvm_irq_routing_entry e = {
        .gsi = gsi,
        .type = KVM_IRQ_ROUTING_MSI,
        .u.msi = {.address_lo = (uint32_t)addr, .address_hi = addr >> 32, .data = data},
    };
    routes_add(s, &e);
    if (!routes_commit(s)) {
        s->nroutes--;
        g_array_append_val(s->free_gsis, gsi);
        return -1;
    }
    return gsi;
}

static bool kvm_msi_route_update(int gsi, uint64_t addr, uint32_t data)
{
    struct kvm_irq_routing_entry *e = route_find(kvm.s, gsi);
    if (!e) {
        return false;
    }
    if (e->u.msi.address_lo == (uint32_t)addr && e->u.msi.address_hi == addr >> 32 &&
        e->u.msi.data == data) {
        return true;
    }
    e->u.msi.address_lo = (uint32_t)addr;
    e->u.msi.address_hi = addr >> 32;
    e->u.msi.data = data;
    return routes_commit(kvm.s);
}

static void kvm_msi_route_remove(int gsi)
{
    KvmState *s = kvm.s;
    struct kvm_irq_routing_entry *e = route_find(s, gsi);
    if (!e) {
        return;
    }
    *e = s->routes[--s->nroutes];
    g_array_append_val(s->free_gsis, gsi);
    routes_commit(s);
}

static bool irqfd(int fd, int gsi, bool assign)
{
    struct kvm_irqfd req = {
        .fd = fd,
        .gsi = gsi,
        .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
    };
    int rc = kvm_vm_ioctl(kvm.s, KVM_IRQFD, &req);
    if (rc < 0) {
        g_warning("kvm: KVM_IRQFD %s gsi %d: %s", assign ? "assign" : "deassign", gsi,
                  g_strerror(-rc));
        return false;
    }
    return true;
}

static bool kvm_irqfd_add(int fd, int gsi)
{
    return irqfd(fd, gsi, true);
}

static void kvm_irqfd_del(int fd, int gsi)
{
    irqfd(fd, gsi, false);
}

/* --- AccelOps ------------------------------------------------------------------------- */

static void kvm_set_irq(int gsi, bool level)
{
    struct kvm_irq_level irq = {.irq = gsi, .level = level};
    int rc = kvm_vm_ioctl(kvm.s, KVM_IRQ_LINE, &irq);
    if (rc < 0) {
        g_warning("kvm: KVM_IRQ_LINE gsi %d: %s", gsi, g_strerror(-rc));
    }
}

static void kvm_send_msi(uint64_t addr, uint32_t data)
{
    struct kvm_msi msi = {.address_lo = (uint32_t)addr, .address_hi = addr >> 32, .data = data};
    int rc = kvm_vm_ioctl(kvm.s, KVM_SIGNAL_MSI, &msi);
    if (rc < 0) {
        g_warning("kvm: KVM_SIGNAL_MSI %#" G_GINT64_MODIFIER "x/%#x: %s", addr, data,
                  g_strerror(-rc));
    }
}

static bool ioeventfd(int fd, AddressSpaceId space, uint64_t addr, unsigned size,
                      bool match_data, uint64_t data, bool assign)
{
    struct kvm_ioeventfd req = {
        .datamatch = match_data ? data : 0,
        .addr = addr,
        .len = size,
        .fd = fd,
        .flags = (space == ADDR_SPACE_IO ? KVM_IOEVENTFD_FLAG_PIO : 0) |
                 (match_data ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
                 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };
    int rc = kvm_vm_ioctl(kvm.s, KVM_IOEVENTFD, &req);
    if (rc < 0) {
        g_warning("kvm: KVM_IOEVENTFD %s %#" G_GINT64_MODIFIER "x: %s",
                  assign ? "assign" : "deassign", addr, g_strerror(-rc));
        return false;
    }
    return true;
}

static bool kvm_add_ioeventfd(int fd, AddressSpaceId space, uint64_t addr, unsigned size,
                              bool match_data, uint64_t data)
{
    return ioeventfd(fd, space, addr, size, match_data, data, true);
}

static void kvm_del_ioeventfd(int fd, AddressSpaceId space, uint64_t addr, unsigned size,
                              bool match_data, uint64_t data)
{
    ioeventfd(fd, space, addr, size, match_data, data, false);
}

static const AccelOps kvm_ops = {
    .name = "kvm",
    .set_irq = kvm_set_irq,
    .send_msi = kvm_send_msi,
    .add_ioeventfd = kvm_add_ioeventfd,
    .del_ioeventfd = kvm_del_ioeventfd,
    .msi_route_add = kvm_msi_route_add,
    .msi_route_update = kvm_msi_route_update,
    .msi_route_remove = kvm_msi_route_remove,
    .irqfd_add = kvm_irqfd_add,
    .irqfd_del = kvm_irqfd_del,
};

/* --- run state ------------------------------------------------------------------------ */

/* Stop: every vCPU out of KVM_RUN first, then freeze the guest's clocks (kvm-clock.c).
 * Start: the clocks resume where they stopped, then the vCPUs. */
static void kvm_vm_state_change(void *opaque, bool running, RunState state, RunState from)
{
    KvmState *s = opaque;
    if (running) {
        kvm_clock_thaw(s);
        kvm_vcpus_resume(s);
    } else {
        kvm_vcpus_pause(s);
        kvm_clock_freeze(s);
    }
}

/* --- set-up --------------------------------------------------------------------------- */

static bool kvm_check_caps(KvmState *s, GError **errp)
{
    static const struct {
        int cap;
        const char *name;
    } required[] = {
        {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
        {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
        {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
        {KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
        {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
        {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
        {KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI"},
        {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
        {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
        {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
        {KVM_CAP_ADJUST_CLOCK, "KVM_CAP_ADJUST_CLOCK"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(required); i++) {
        if (ioctl(s->kvm_fd, KVM_CHECK_EXTENSION, required[i].cap) <= 0) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_KVM_MISSING_CAP,
                        "-accel kvm: this host's KVM lacks %s, which tern needs",
                        required[i].name);
            return false;
        }
    }
    return true;
}

/* RAM block i is memory slot i; `flags` 0 or KVM_MEM_LOG_DIRTY_PAGES. -errno on failure. */
static int slot_set(KvmState *s, unsigned i, const RamBlock *b, uint32_t flags)
{
    struct kvm_userspace_memory_region slot = {
        .slot = i,
        .flags = flags,
        .guest_phys_addr = b->gpa,
        .memory_size = b->size,
        .userspace_addr = (uintptr_t)b->host,
    };
    return kvm_vm_ioctl(s, KVM_SET_USER_MEMORY_REGION, &slot);
}

static bool kvm_map_ram(KvmState *s, GError **errp)
{
    const RamBlock *blocks;
    unsigned n = guest_ram_blocks(&blocks);
    for (unsigned i = 0; i < n; i++) {
        int rc = slot_set(s, i, &blocks[i], 0);
        if (rc < 0) {
            return tern_error_fail(errp, "-accel kvm: KVM_SET_USER_MEMORY_REGION: %s",
                                   g_strerror(-rc));
        }
    }
    return true;
}

/* --- dirty log (migration/ram.h) ------------------------------------------------------ */

/*
 * KVM_MEM_LOG_DIRTY_PAGES on every RAM slot while a migration runs; KVM_GET_DIRTY_LOG
 * returns a slot's pages written since the previous call (and write-protects them again),
 * one bit per 4 KiB page in unsigned longs: the layout ram.c's bitmaps use, so a sync
 * ORs word by word. Pages KVM itself writes for the guest (kvm-clock, steal time, PV EOI)
 * are logged too.
 */
static size_t dirty_longs(const RamBlock *b)
{
    uint64_t pages = b->size >> MIG_PAGE_SHIFT;
    return (pages + 8 * sizeof(unsigned long) - 1) / (8 * sizeof(unsigned long));
}

static void dirty_log_set(KvmState *s, uint32_t flags, unsigned upto)
{
    const RamBlock *blocks;
    unsigned n = MIN(guest_ram_blocks(&blocks), upto);
    for (unsigned i = 0; i < n; i++) {
        int rc = slot_set(s, i, &blocks[i], flags);
        if (rc < 0) {
            g_warning("kvm: dirty log off for slot %u: %s", i, g_strerror(-rc));
        }
    }
}

static bool kvm_dirty_log_start(void *opaque, GError **errp)
{
    KvmState *s = opaque;
    const RamBlock *blocks;
    unsigned n = guest_ram_blocks(&blocks);
    size_t longs = 0;
    for (unsigned i = 0; i < n; i++) {
        longs = MAX(longs, dirty_longs(&blocks[i]));
        int rc = slot_set(s, i, &blocks[i], KVM_MEM_LOG_DIRTY_PAGES);
        if (rc < 0) {
            dirty_log_set(s, 0, i);
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "KVM_MEM_LOG_DIRTY_PAGES on slot %u: %s", i, g_strerror(-rc));
            return false;
        }
    }
    g_free(s->dirty_scratch);
    s->dirty_scratch = g_new0(unsigned long, MAX(longs, 1));
    s->dirty_logging = true;
    return true;
}

static void kvm_dirty_log_stop(void *opaque)
{
    KvmState *s = opaque;
    if (!s->dirty_logging) {
        return;
    }
    dirty_log_set(s, 0, UINT_MAX);
    g_free(s->dirty_scratch);
    s->dirty_scratch = NULL;
    s->dirty_logging = false;
}

static bool kvm_dirty_log_sync(void *opaque, unsigned block, const RamBlock *rb,
                               unsigned long *bitmap, GError **errp)
{
    KvmState *s = opaque;
    size_t longs = dirty_longs(rb);
    if (!s->dirty_logging) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "KVM's dirty log is not on");
        return false;
    }
    struct kvm_dirty_log log = {.slot = block, .dirty_bitmap = s->dirty_scratch};
    memset(s->dirty_scratch, 0, longs * sizeof(unsigned long));
    int rc = kvm_vm_ioctl(s, KVM_GET_DIRTY_LOG, &log);
    if (rc < 0) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "KVM_GET_DIRTY_LOG slot %u: %s",
                    block, g_strerror(-rc));
        return false;
    }
    for (size_t i = 0; i < longs; i++) {
        bitmap[i] |= s->dirty_scratch[i];
    }
    return true;
}

static const RamDirtyLogOps kvm_dirty_log_ops = {
    .start = kvm_dirty_log_start,
    .stop = kvm_dirty_log_stop,
    .sync = kvm_dirty_log_sync,
};

static bool kvm_create_vm(KvmState *s, GError **errp)
{
    s->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (s->kvm_fd < 0) {
        int err = errno;
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-accel kvm: cannot open /dev/kvm: %s%s", g_strerror(err),
                    err == ENOENT ? " (is the kvm_intel or kvm_amd module loaded?)" : "");
        return false;
    }
    int api = ioctl(s->kvm_fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-accel kvm: KVM API version %d, tern needs %d", api, KVM_API_VERSION);
        return false;
    }
    do {
        s->vm_fd = ioctl(s->kvm_fd, KVM_CREATE_VM, 0);
    } while (s->vm_fd < 0 && errno == EINTR);
    if (s->vm_fd < 0) {
        return tern_error_fail(errp, "-accel kvm: KVM_CREATE_VM: %s", g_strerror(errno));
    }
    if (!kvm_check_caps(s, errp)) {
        return false;
    }
    s->run_mmap_size = ioctl(s->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (s->run_mmap_size < (int)sizeof(struct kvm_run)) {
        return tern_error_fail(errp, "-accel kvm: KVM_GET_VCPU_MMAP_SIZE: %s",
                               g_strerror(errno));
    }
    /* VMX needs these two private areas below 4 GiB even with unrestricted guests. */
    uint64_t identity = KVM_IDENTITY_MAP_ADDR;
    int rc = kvm_vm_ioctl(s, KVM_SET_IDENTITY_MAP_ADDR, &identity);
    if (rc < 0) {
        return tern_error_fail(errp, "-accel kvm: KVM_SET_IDENTITY_MAP_ADDR: %s",
                               g_strerror(-rc));
    }
    rc = ioctl(s->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR);
    if (rc < 0) {
        return tern_error_fail(errp, "-accel kvm: KVM_SET_TSS_ADDR: %s", g_strerror(errno));
    }
    rc = kvm_vm_ioctl(s, KVM_CREATE_IRQCHIP, NULL);
    if (rc < 0) {
        return tern_error_fail(errp, "-accel kvm: KVM_CREATE_IRQCHIP: %s", g_strerror(-rc));
    }
    /* The PIT and port 0x61 (PIT channel 2 gate, speaker) both live in the kernel. */
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
    rc = kvm_vm_ioctl(s, KVM_CREATE_PIT2, &pit);
    if (rc < 0) {
        return tern_error_fail(errp, "-accel kvm: KVM_CREATE_PIT2: %s", g_strerror(-rc));
    }
    routes_init_default(s);
    return routes_commit(s) ||
           tern_error_fail(errp, "-accel kvm: GSI routing: %s", g_strerror(EINVAL));
}

static void kvm_state_free(KvmState *s)
{
    /* Closing the VM drops its slots, dirty log and all: no slot update at exit. */
    g_free(s->dirty_scratch);
    s->dirty_scratch = NULL;
    s->dirty_logging = false;
    if (s->vm_fd > 0) {
        close(s->vm_fd);
    }
    if (s->kvm_fd > 0) {
        close(s->kvm_fd);
    }
    if (s->free_gsis) {
        g_array_free(s->free_gsis, TRUE);
    }
    g_free(s->routes);
    g_free(s->supported_cpuid);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
    g_free(s);
}

bool kvm_accel_init(TernConfig *c, GError **errp)
{
    g_return_val_if_fail(kvm.s == NULL, false);
    KvmState *s = g_new0(KvmState, 1);
    s->kvm_fd = s->vm_fd = -1;
    s->ncpus = c->smp ? c->smp : 1;
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);

    if (!kvm_create_vm(s, errp) || !kvm_map_ram(s, errp)) {
        kvm_state_free(s);
        return false;
    }
    s->supported_cpuid = kvm_cpuid_get_supported(s->kvm_fd, errp);
    if (!s->supported_cpuid) {
        kvm_state_free(s);
        return false;
    }
    kvm.s = s;
    /* The VM-wide section first: a stream for another vCPU count is refused before any
     * vCPU's state is loaded. */
    kvm_vm_state_init(s);
    if (!kvm_vcpus_create(s, errp) || !kvm_cpu_state_init(s, errp)) {
        kvm_cpu_state_destroy(s);
        kvm_vm_state_destroy(s);
        kvm_vcpus_destroy(s);
        kvm.s = NULL;
        kvm_state_free(s);
        return false;
    }
    accel_set_ops(&kvm_ops);
    ram_dirty_log_register(&kvm_dirty_log_ops, s);
    kvm.runstate_notifier = vm_state_notify_add(kvm_vm_state_change, s, VM_STATE_PRIO_ACCEL);
    return true;
}

void kvm_accel_destroy(void)
{
    KvmState *s = kvm.s;
    if (!s) {
        return;
    }
    vm_state_notify_remove(kvm.runstate_notifier);
    kvm.runstate_notifier = NULL;
    ram_dirty_log_register(NULL, NULL);
    kvm_cpu_state_destroy(s);
    kvm_vm_state_destroy(s);
    kvm_vcpus_destroy(s);
    accel_set_ops(NULL);
    kvm.s = NULL;
    kvm_state_free(s);
}
