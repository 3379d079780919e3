/*
 * kvm-vm-state.c: the VM-wide KVM state in the migration stream, the "kvm" section. It
 * is registered before the vCPUs' "cpu" sections, so it is saved and loaded first:
 *
 *  - the vCPU count, which must match: a stream from a VM with another -smp is refused
 *    here, naming this field, before any vCPU state is touched;
 *  - the in-kernel interrupt controllers: both 8259 PICs and the IOAPIC (KVM_GET_IRQCHIP);
 *  - the in-kernel PIT (KVM_GET_PIT2). Its channels' load times are host clock readings
 *    that mean nothing on another host, and KVM_SET_PIT2 restarts every channel's count
 *    anyway: they are not sent;
 *  - kvm-clock (KVM_GET_CLOCK, taken when the VM stopped). The destination does not set
 *    it at load: it becomes the value KVM_SET_CLOCK restores when the VM first runs
 *    (kvm-all.c's run-state hook), so guest time continues from where the source stopped,
 *    without the downtime in between.
 */
#include <string.h>
#include "error.h"
#include "kvm-internal.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"

typedef struct KvmVmState {
    KvmState *s;
    VMStateEntry *entry;
    uint32_t ncpus;
    struct kvm_pic_state pic[2];
    struct kvm_ioapic_state ioapic;
    struct kvm_pit_state2 pit;
    uint64_t clock;
} KvmVmState;

static bool vm_ioctl(KvmState *s, unsigned long req, void *arg, const char *what, GError **errp)
{
    int rc = kvm_vm_ioctl(s, req, arg);
    if (rc < 0) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s: %s", what, g_strerror(-rc));
        return false;
    }
    return true;
}

static bool vm_pre_save(void *opaque, GError **errp)
{
    KvmVmState *vs = opaque;
    KvmState *s = vs->s;
    struct kvm_irqchip chip[3] = {
        {.chip_id = KVM_IRQCHIP_PIC_MASTER},
        {.chip_id = KVM_IRQCHIP_PIC_SLAVE},
        {.chip_id = KVM_IRQCHIP_IOAPIC},
    };
    for (unsigned i = 0; i < 3; i++) {
        if (!vm_ioctl(s, KVM_GET_IRQCHIP, &chip[i], "KVM_GET_IRQCHIP", errp)) {
            return false;
        }
    }
    vs->pic[0] = chip[0].chip.pic;
    vs->pic[1] = chip[1].chip.pic;
    vs->ioapic = chip[2].chip.ioapic;
    if (!vm_ioctl(s, KVM_GET_PIT2, &vs->pit, "KVM_GET_PIT2", errp)) {
        return false;
    }
    /* Stopped: the value frozen at the stop. Never run (prelaunch): read it now. */
    if (s->clock_saved) {
        vs->clock = s->clock.clock;
    } else {
        struct kvm_clock_data data = {0};
        if (!vm_ioctl(s, KVM_GET_CLOCK, &data, "KVM_GET_CLOCK", errp)) {
            return false;
        }
        vs->clock = data.clock;
    }
    return true;
}

static bool vm_post_load(void *opaque, int version_id, GError **errp)
{
    KvmVmState *vs = opaque;
    KvmState *s = vs->s;
    struct kvm_irqchip chip[3] = {
        {.chip_id = KVM_IRQCHIP_PIC_MASTER, .chip.pic = vs->pic[0]},
        {.chip_id = KVM_IRQCHIP_PIC_SLAVE, .chip.pic = vs->pic[1]},
        {.chip_id = KVM_IRQCHIP_IOAPIC, .chip.ioapic = vs->ioapic},
    };
    for (unsigned i = 0; i < 3; i++) {
        if (!vm_ioctl(s, KVM_SET_IRQCHIP, &chip[i], "KVM_SET_IRQCHIP", errp)) {
            return false;
        }
    }
    struct kvm_pit_state2 pit = vs->pit;
    for (unsigned i = 0; i < 3; i++) {
        pit.channels[i].count_load_time = 0;
    }
    memset(pit.reserved, 0, sizeof(pit.reserved));
    if (!vm_ioctl(s, KVM_SET_PIT2, &pit, "KVM_SET_PIT2", errp)) {
        return false;
    }
    s->clock = (struct kvm_clock_data){.clock = vs->clock};
    s->clock_saved = true;
    return true;
}

static const VMStateField pic_fields[] = {
    KVMS_U8(last_irr, struct kvm_pic_state),
    KVMS_U8(irr, struct kvm_pic_state),
    KVMS_U8(imr, struct kvm_pic_state),
    KVMS_U8(isr, struct kvm_pic_state),
    KVMS_U8(priority_add, struct kvm_pic_state),
    KVMS_U8(irq_base, struct kvm_pic_state),
    KVMS_U8(read_reg_select, struct kvm_pic_state),
    KVMS_U8(poll, struct kvm_pic_state),
    KVMS_U8(special_mask, struct kvm_pic_state),
    KVMS_U8(init_state, struct kvm_pic_state),
    KVMS_U8(auto_eoi, struct kvm_pic_state),
    KVMS_U8(rotate_on_auto_eoi, struct kvm_pic_state),
    KVMS_U8(special_fully_nested_mode, struct kvm_pic_state),
    KVMS_U8(init4, struct kvm_pic_state),
    KVMS_U8(elcr, struct kvm_pic_state),
    KVMS_U8(elcr_mask, struct kvm_pic_state),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_pic = {
    .name = "pic",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pic_fields,
};

static const VMStateField ioapic_fields[] = {
    KVMS_U64(base_address, struct kvm_ioapic_state),
    KVMS_U32(ioregsel, struct kvm_ioapic_state),
    KVMS_U32(id, struct kvm_ioapic_state),
    KVMS_U32(irr, struct kvm_ioapic_state),
    KVMS_U64_ARRAY(redirtbl, struct kvm_ioapic_state),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_ioapic = {
    .name = "ioapic",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = ioapic_fields,
};

static const VMStateField pit_channel_fields[] = {
    KVMS_U32(count, struct kvm_pit_channel_state),
    KVMS_U16(latched_count, struct kvm_pit_channel_state),
    KVMS_U8(count_latched, struct kvm_pit_channel_state),
    KVMS_U8(status_latched, struct kvm_pit_channel_state),
    KVMS_U8(status, struct kvm_pit_channel_state),
    KVMS_U8(read_state, struct kvm_pit_channel_state),
    KVMS_U8(write_state, struct kvm_pit_channel_state),
    KVMS_U8(write_latch, struct kvm_pit_channel_state),
    KVMS_U8(rw_mode, struct kvm_pit_channel_state),
    KVMS_U8(mode, struct kvm_pit_channel_state),
    KVMS_U8(bcd, struct kvm_pit_channel_state),
    KVMS_U8(gate, struct kvm_pit_channel_state),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_pit_channel = {
    .name = "pit-channel",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pit_channel_fields,
};

static const VMStateField vm_fields[] = {
    VMSTATE_UINT32_EQUAL(ncpus, KvmVmState),
    VMSTATE_STRUCT_ARRAY(pic, KvmVmState, vmstate_pic, struct kvm_pic_state),
    VMSTATE_STRUCT(ioapic, KvmVmState, vmstate_ioapic, struct kvm_ioapic_state),
    VMSTATE_STRUCT_ARRAY(pit.channels, KvmVmState, vmstate_pit_channel,
                         struct kvm_pit_channel_state),
    KVMS_U32(pit.flags, KvmVmState),
    VMSTATE_UINT64(clock, KvmVmState),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_kvm_vm = {
    .name = "kvm",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = vm_fields,
    .pre_save = vm_pre_save,
    .post_load = vm_post_load,
};

void kvm_vm_state_init(KvmState *s)
{
    KvmVmState *vs = g_new0(KvmVmState, 1);
    vs->s = s;
    vs->ncpus = s->ncpus;
    vs->entry = vmstate_register_named("kvm", 0, &vmstate_kvm_vm, vs);
    s->vm_state = vs;
}

void kvm_vm_state_destroy(KvmState *s)
{
    if (s->vm_state) {
        vmstate_unregister(s->vm_state->entry);
        g_free(s->vm_state);
        s->vm_state = NULL;
    }
}
