/* test-options.c: QEMU-syntax command lines parsed into TernConfig, good and bad. */
#include <glib.h>
#include <string.h>
#include "options.h"

/* Parse a space-separated command line (no quoting needed in these tests). */
static OptionsResult parse(const char *line, TernConfig **out, GError **errp)
{
    g_autofree char *full = g_strconcat("tern ", line, NULL);
    g_auto(GStrv) argv = g_strsplit(full, " ", -1);
    TernConfig *c = config_new();
    FILE *devnull = fopen("/dev/null", "w");
    OptionsResult r = options_parse(c, g_strv_length(argv), argv, devnull, errp);
    fclose(devnull);
    *out = c;
    return r;
}

static void test_full_line(void)
{
    TernConfig *c;
    GError *err = NULL;
    g_assert_cmpint(
        parse(
            "-enable-kvm -m 256 -smp 2 -kernel vmlinuz -initrd initrd.gz -append console=ttyS0 "
            "-netdev tap,id=n0,ifname=tap0,script=no,downscript=no "
            "-device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,id=nic0 "
            "-qmp unix:/run/a.qmp,server=on,wait=off -qmp "
            "tcp:127.0.0.1:4444,server=on,wait=off "
            "-serial stdio -nographic -name vm1 -S -pidfile /tmp/p -no-reboot -D /tmp/log "
            "-incoming tcp:0:4444",
            &c, &err),
        ==, OPTIONS_RUN);
    g_assert_no_error(err);
    g_assert_cmpint(c->accel, ==, ACCEL_KVM);
    g_assert_cmpuint(c->ram_size, ==, 256ULL << 20);
    g_assert_cmpuint(c->smp, ==, 2);
    g_assert_cmpstr(c->kernel, ==, "vmlinuz");
    g_assert_cmpstr(c->initrd, ==, "initrd.gz");
    g_assert_cmpstr(c->append, ==, "console=ttyS0");
    g_assert_cmpuint(c->netdevs->len, ==, 1);
    TernOpts *n = g_ptr_array_index(c->netdevs, 0);
    g_assert_cmpstr(n->driver, ==, "tap");
    g_assert_cmpstr(n->id, ==, "n0");
    g_assert_cmpstr(opts_get(n, "ifname"), ==, "tap0");
    TernOpts *d = g_ptr_array_index(c->devices, 0);
    g_assert_cmpstr(d->driver, ==, "virtio-net-pci");
    g_assert_cmpstr(d->id, ==, "nic0");
    g_assert_cmpstr(opts_get(d, "mac"), ==, "52:54:00:12:34:56");
    g_assert_cmpuint(c->qmp->len, ==, 2);
    g_assert_cmpstr(c->serial, ==, "stdio");
    g_assert_true(c->nographic && c->start_paused && c->no_reboot);
    g_assert_cmpstr(c->name, ==, "vm1");
    g_assert_cmpstr(c->pidfile, ==, "/tmp/p");
    g_assert_cmpstr(c->logfile, ==, "/tmp/log");
    g_assert_cmpstr(c->incoming, ==, "tcp:0:4444");
    config_free(c);
}

/* QEMU's JSON -device: the same members as device_add. */
static void test_device_json(void)
{
    TernConfig *c;
    GError *err = NULL;
    g_assert_cmpint(parse("-device {\"driver\":\"virtio-mouse-pci\",\"id\":\"dev0\","
                          "\"addr\":\"0x5\",\"on\":true}",
                          &c, &err),
                    ==, OPTIONS_RUN);
    g_assert_no_error(err);
    g_assert_cmpuint(c->devices->len, ==, 1);
    TernOpts *d = g_ptr_array_index(c->devices, 0);
    g_assert_cmpstr(d->driver, ==, "virtio-mouse-pci");
    g_assert_cmpstr(d->id, ==, "dev0");
    g_assert_cmpstr(opts_get(d, "addr"), ==, "0x5");
    g_assert_cmpstr(opts_get(d, "on"), ==, "on");
    config_free(c);
}

static void test_defaults_and_variants(void)
{
    TernConfig *c;
    g_assert_cmpint(parse("-machine none -display none", &c, NULL), ==, OPTIONS_RUN);
    g_assert_cmpuint(c->ram_size, ==, 128ULL << 20);
    g_assert_cmpuint(c->smp, ==, 1);
    g_assert_cmpstr(c->machine, ==, "none");
    g_assert_null(c->serial);
    config_free(c);

    g_assert_cmpint(
        parse("-m size=1G -smp cpus=4 -M pc,accel=qtest -qtest unix:/tmp/q", &c, NULL), ==,
        OPTIONS_RUN);
    g_assert_cmpuint(c->ram_size, ==, 1ULL << 30);
    g_assert_cmpuint(c->smp, ==, 4);
    g_assert_cmpint(c->accel, ==, ACCEL_QTEST);
    config_free(c);

    g_assert_cmpint(
        parse("--smp sockets=1,cores=2,threads=2 --m 512M -accel kvm -nographic", &c, NULL), ==,
        OPTIONS_RUN);
    g_assert_cmpuint(c->smp, ==, 4);
    g_assert_cmpuint(c->ram_size, ==, 512ULL << 20);
    g_assert_cmpstr(c->serial, ==, "stdio"); /* -nographic puts the serial on stdio */
    config_free(c);

    /* -qtest implies the qtest accelerator; ",," escapes a comma */
    g_assert_cmpint(
        parse("-qtest unix:/tmp/q -name guest=a,,b -machine pc-i440fx-7.2", &c, NULL), ==,
        OPTIONS_RUN);
    g_assert_cmpint(c->accel, ==, ACCEL_QTEST);
    g_assert_cmpstr(c->name, ==, "a,b");
    g_assert_cmpstr(c->machine, ==, "pc");
    config_free(c);

    g_assert_cmpint(parse("-version", &c, NULL), ==, OPTIONS_EXIT_OK);
    config_free(c);
    g_assert_cmpint(parse("-help", &c, NULL), ==, OPTIONS_EXIT_OK);
    config_free(c);
}

/* What libqtest and libvirt add around the machine: monitors, firmware settings, absent
 * hardware. */
static void test_qemu_extras(void)
{
    TernConfig *c;
    GError *err = NULL;
    g_assert_cmpint(
        parse("-qtest unix:/tmp/q -qtest-log /dev/null "
              "-chardev socket,path=/tmp/m,id=char0 -mon chardev=char0,mode=control "
              "-display none -nodefaults -nographic -audiodev none,id=a0 "
              "-audiodev {\"id\":\"audio1\",\"driver\":\"none\"} -audio none "
              "-uuid 4600cb32-38ec-4b2f-8acb-81c6ea54f2d8 "
              "-boot menu=on,splash-time=12,reboot-timeout=15",
              &c, &err),
        ==, OPTIONS_RUN);
    g_assert_no_error(err);
    g_assert_cmpstr(c->qtest_log, ==, "/dev/null");
    g_assert_cmpuint(c->chardevs->len, ==, 1);
    const TernOpts *chr = config_find_chardev(c, "char0");
    g_assert_nonnull(chr);
    g_assert_cmpstr(opts_get(chr, "path"), ==, "/tmp/m");
    g_assert_cmpuint(c->monitors->len, ==, 1);
    g_assert_null(c->serial); /* -nodefaults: -nographic puts no serial on stdio */
    g_assert_true(c->has_uuid);
    static const uint8_t uuid[16] = {0x46, 0x00, 0xcb, 0x32, 0x38, 0xec, 0x4b, 0x2f,
                                     0x8a, 0xcb, 0x81, 0xc6, 0xea, 0x54, 0xf2, 0xd8};
    g_assert_cmpmem(c->uuid, 16, uuid, 16);
    g_assert_true(c->boot.menu && c->boot.has_splash_time);
    g_assert_cmpuint(c->boot.splash_time, ==, 12);
    g_assert_cmpuint(c->boot.reboot_timeout, ==, 15);
    config_free(c);

    /* QEMU's defaults: no splash time, reboot timeout -1 (never). */
    g_assert_cmpint(parse("-machine none", &c, NULL), ==, OPTIONS_RUN);
    g_assert_false(c->has_uuid || c->boot.menu || c->boot.has_splash_time);
    g_assert_cmpuint(c->boot.reboot_timeout, ==, UINT32_MAX);
    config_free(c);
    g_assert_cmpint(parse("-boot reboot-timeout=-1", &c, NULL), ==, OPTIONS_RUN);
    g_assert_cmpuint(c->boot.reboot_timeout, ==, UINT32_MAX);
    config_free(c);
}

typedef struct {
    const char *line;
    const char *message; /* a substring of the one-line error */
} BadLine;

static const BadLine bad_lines[] = {
    {"-bogus", "-bogus: unknown or unsupported option"},
    {"-m", "-m: requires an argument"},
    {"-m lots", "-m: invalid size 'lots'"},
    {"-m 12Q", "-m: invalid size '12Q'"},
    {"-m 1", "out of range"},
    {"-m 256,slots=2", "property 'slots' is not supported"},
    {"-smp 0", "CPU count '0' must be from 1 to 64"},
    {"-smp 65", "must be from 1 to 64"},
    {"-smp two", "CPU count 'two'"},
    {"-smp 2,maxcpus=4", "CPU hotplug is not supported"},
    {"-smp 3,sockets=1,cores=2", "sockets*dies*cores*threads must equal cpus"},
    {"-machine q35", "machine type 'q35' is not supported"},
    {"-machine pc,usb=off", "property 'usb' is not supported"},
    {"-accel tcg", "accelerator 'tcg' is not supported"},
    {"-accel whatever", "unknown accelerator 'whatever'"},
    {"-machine pc,accel=hax", "unknown accelerator 'hax'"},
    {"-display gtk", "display 'gtk' is not supported"},
    {"-serial vc", "unsupported backend 'vc'"},
    {"-serial stdio -serial none", "only one serial port"},
    {"-qmp stdio", "-qmp: 'stdio' is not supported"},
    {"-netdev tap", "lacks id="},
    {"-netdev tap,id=a -netdev socket,id=a", "duplicate id 'a'"},
    {"-device e1000,id=x -device virtio-net-pci,id=x", "duplicate id 'x'"},
    {"-device virtio-net-pci,netdev", "'netdev' lacks a value"},
    {"-device virtio-net-pci,mac=1,mac=2", "'mac' given more than once"},
    {"-device {\"id\":\"x\"}", "Parameter 'driver' is missing"},
    {"-device {\"driver\":", "JSON parse error"},
    {"-device {\"driver\":\"e1000\",\"x\":[1]}", "'x' expects a string"},
    {"-device {\"driver\":\"e1000\",\"id\":\"x\"} -device e1000,id=x", "duplicate id 'x'"},
    {"-incoming rdma:host:1", "unsupported URI 'rdma:host:1'"},
    {"-incoming tcp:", "unsupported URI"},
    {"-accel qtest", "needs -qtest"},
    {"-initrd x", "-initrd: only allowed with -kernel"},
    {"-append x", "-append: only allowed with -kernel"},
    {"disk.img", "unexpected argument"},
    {"-qtest tcp:1:2", "unsupported chardev"},
    {"-chardev socket,path=/x", "lacks id="},
    {"-chardev socket,id=a", "needs path=PATH"},
    {"-chardev file,id=a,path=/x", "backend 'file' is not supported"},
    {"-chardev socket,id=a,path=/x,server=perhaps", "'server' must be on or off"},
    {"-chardev socket,id=a,path=/x -chardev socket,id=a,path=/y", "duplicate id 'a'"},
    {"-chardev socket,id=a,path=/x", "a: not used by any -mon"},
    {"-mon chardev=a,mode=control", "no -chardev with id 'a'"},
    {"-chardev socket,id=a,path=/x -mon chardev=a,mode=readline", "only mode=control"},
    {"-chardev socket,id=a,path=/x -mon chardev=a,mode=control -mon a,mode=control",
     "chardev 'a' is used twice"},
    {"-chardev socket,id=a,path=/x -mon chardev=a,mode=control,pretty=on", "pretty=on"},
    {"-audiodev pa,id=a", "audio driver 'pa' is not supported"},
    {"-audiodev none", "lacks id="},
    {"-audiodev {\"id\":\"a\",\"driver\":\"alsa\"}", "audio driver 'alsa'"},
    {"-audiodev {\"id\":\"a\"}", "expected {"},
    {"-audio pa", "audio driver 'pa'"},
    {"-uuid 4600cb32-38ec-4b2f-8acb-81c6ea54f2d", "is not a UUID"},
    {"-uuid 4600cb32x38ec-4b2f-8acb-81c6ea54f2d8", "is not a UUID"},
    {"-boot order=c", "property 'order' is not supported"},
    {"-bios bios.bin", "-bios: tern loads no firmware images"},
    {"-pflash flash.img", "-pflash: tern loads no firmware images"},
    {"-boot splash-time=70000", "'splash-time' must be a number from 0 to 65535"},
    {"-boot reboot-timeout=-2", "'reboot-timeout' must be a number"},
};

static void test_bad_line(gconstpointer data)
{
    const BadLine *b = data;
    TernConfig *c;
    GError *err = NULL;
    g_assert_cmpint(parse(b->line, &c, &err), ==, OPTIONS_ERROR);
    g_assert_nonnull(err);
    if (!strstr(err->message, b->message)) {
        g_test_message("'%s': got '%s', expected to contain '%s'", b->line, err->message,
                       b->message);
        g_test_fail();
    }
    g_assert_null(strchr(err->message, '\n'));
    g_error_free(err);
    config_free(c);
}

static void test_parse_size(void)
{
    uint64_t v;
    g_assert_true(parse_size("256", 1 << 20, &v) && v == 256ULL << 20);
    g_assert_true(parse_size("2G", 1 << 20, &v) && v == 2ULL << 30);
    g_assert_true(parse_size("1.5G", 1 << 20, &v) && v == 3ULL << 29);
    g_assert_true(parse_size("64k", 1 << 20, &v) && v == 64ULL << 10);
    g_assert_false(parse_size("", 1, &v));
    g_assert_false(parse_size("-1", 1, &v));
    g_assert_false(parse_size("1GB", 1, &v));
    g_assert_false(parse_size("99999999999T", 1, &v));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/options/full-line", test_full_line);
    g_test_add_func("/options/device-json", test_device_json);
    g_test_add_func("/options/defaults-and-variants", test_defaults_and_variants);
    g_test_add_func("/options/parse-size", test_parse_size);
    g_test_add_func("/options/qemu-extras", test_qemu_extras);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_lines); i++) {
        g_autofree char *path = g_strdup_printf("/options/bad/%zu", i);
        g_test_add_data_func(path, &bad_lines[i], test_bad_line);
    }
    return g_test_run();
}
