/* irq.c: route device interrupts (lines and MSI) to whichever accelerator runs the VM. */
#include "hw/irq.h"

/* With no accelerator (-machine none), interrupts and MSI writes go nowhere but an MSI
 * still lands in memory, as a bus-master write would. */
static void null_set_irq(int gsi, bool level)
{
}

static void null_send_msi(uint64_t addr, uint32_t data)
{
    uint8_t le[4] = {data, data >> 8, data >> 16, data >> 24};
    dma_write(addr, le, sizeof(le));
}

static const AccelOps null_ops = {
    .name = "none",
    .set_irq = null_set_irq,
    .send_msi = null_send_msi,
};

static const AccelOps *current_ops = &null_ops;

void accel_set_ops(const AccelOps *ops)
{
    current_ops = ops ? ops : &null_ops;
}

const AccelOps *accel_get_ops(void)
{
    return current_ops;
}

void irq_set_level(int gsi, bool level)
{
    current_ops->set_irq(gsi, level);
}

void msi_send(uint64_t addr, uint32_t data)
{
    current_ops->send_msi(addr, data);
}
