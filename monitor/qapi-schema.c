/*
 * qapi-schema.c: parse qapi-schema.json into types, commands and events.
 *
 * The file is strict JSON (json-glib reads it); every reference is resolved and every
 * entity checked here, at start-up, so a mistake in the schema stops the build's tests
 * instead of surfacing as a confusing reply later.
 */
#include <string.h>
#include "error.h"
#include "monitor/qapi-schema.h"

#define SCHEMA_RESOURCE "/org/tern/qapi-schema.json"

struct QapiSchema {
    GHashTable *types;    /* name -> QapiType * (builtins, named, arrays, implicit) */
    GPtrArray *all_types; /* owns every QapiType */
    GHashTable *commands; /* name -> QapiCommand * */
    GPtrArray *command_list;
    GHashTable *events; /* name -> QapiEvent * */
    GPtrArray *event_list;
};

static const struct {
    const char *name;
    QapiBuiltin kind;
} builtins[] = {
    {"str", QAPI_STR},       {"int", QAPI_INT},       {"int8", QAPI_INT8},
    {"int16", QAPI_INT16},   {"int32", QAPI_INT32},   {"int64", QAPI_INT},
    {"uint8", QAPI_UINT8},   {"uint16", QAPI_UINT16}, {"uint32", QAPI_UINT32},
    {"uint64", QAPI_UINT64}, {"size", QAPI_SIZE},     {"number", QAPI_NUMBER},
    {"bool", QAPI_BOOL},     {"any", QAPI_ANY},       {"null", QAPI_NULL},
};

static void member_free(void *p)
{
    QapiMember *m = p;
    g_free(m->name);
    g_free(m->doc);
    g_free(m);
}

static void variant_free(void *p)
{
    QapiVariant *v = p;
    g_free(v->value);
    g_free(v);
}

static void type_free(void *p)
{
    QapiType *t = p;
    g_free(t->name);
    g_free(t->doc);
    if (t->values) {
        g_ptr_array_unref(t->values);
    }
    if (t->members) {
        g_ptr_array_unref(t->members);
    }
    if (t->variants) {
        g_ptr_array_unref(t->variants);
    }
    if (t->branches) {
        g_ptr_array_unref(t->branches);
    }
    g_free(t);
}

static void command_free(void *p)
{
    QapiCommand *c = p;
    g_free(c->name);
    g_free(c->doc);
    g_free(c);
}

static void event_free(void *p)
{
    QapiEvent *e = p;
    g_free(e->name);
    g_free(e->doc);
    g_free(e);
}

void qapi_schema_free(QapiSchema *s)
{
    if (!s) {
        return;
    }
    g_hash_table_unref(s->types);
    g_hash_table_unref(s->commands);
    g_hash_table_unref(s->events);
    g_ptr_array_unref(s->command_list);
    g_ptr_array_unref(s->event_list);
    g_ptr_array_unref(s->all_types);
    g_free(s);
}

static QapiType *type_new(QapiSchema *s, const char *name, QapiMeta meta)
{
    QapiType *t = g_new0(QapiType, 1);
    t->name = g_strdup(name);
    t->meta = meta;
    g_ptr_array_add(s->all_types, t);
    g_hash_table_insert(s->types, t->name, t);
    return t;
}

/* Every named entity carries a "name", a non-empty "doc", and only the keys it may have. */
static bool entity_header(JsonNode *node, const char *what, const char *const *keys,
                          const char **name, const char **doc, GError **errp)
{
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        return tern_error_fail(errp, "qapi-schema.json: every %s must be an object", what);
    }
    JsonObject *o = json_node_get_object(node);
    *name = json_object_get_string_member_with_default(o, "name", NULL);
    if (!*name || !**name) {
        return tern_error_fail(errp, "qapi-schema.json: a %s lacks a string 'name'", what);
    }
    *doc = json_object_get_string_member_with_default(o, "doc", NULL);
    if (!*doc || !**doc) {
        return tern_error_fail(errp, "qapi-schema.json: %s '%s' lacks a 'doc' string", what,
                               *name);
    }
    JsonObjectIter it;
    const char *key;
    json_object_iter_init(&it, o);
    while (json_object_iter_next(&it, &key, NULL)) {
        if (!g_strv_contains(keys, key)) {
            return tern_error_fail(errp, "qapi-schema.json: %s '%s': unknown key '%s'", what,
                                   *name, key);
        }
    }
    return true;
}

static QapiType *array_of(QapiSchema *s, QapiType *element)
{
    char *name = g_strdup_printf("[%s]", element->name);
    QapiType *t = g_hash_table_lookup(s->types, name);
    if (!t) {
        t = type_new(s, name, QAPI_ARRAY);
        t->element = element;
    }
    g_free(name);
    return t;
}

/* A type reference: "Name" or ["Name"]. */
static QapiType *resolve_ref(QapiSchema *s, JsonNode *ref, const char *where, GError **errp)
{
    bool array = false;
    if (JSON_NODE_HOLDS_ARRAY(ref)) {
        JsonArray *a = json_node_get_array(ref);
        if (json_array_get_length(a) != 1) {
            tern_error_fail(
                errp, "qapi-schema.json: %s: an array type is written [\"T\"] with one element",
                where);
            return NULL;
        }
        ref = json_array_get_element(a, 0);
        array = true;
    }
    if (!JSON_NODE_HOLDS_VALUE(ref) || json_node_get_value_type(ref) != G_TYPE_STRING) {
        tern_error_fail(errp, "qapi-schema.json: %s: a type is a name or [\"name\"]", where);
        return NULL;
    }
    const char *name = json_node_get_string(ref);
    QapiType *t = g_hash_table_lookup(s->types, name);
    if (!t || t->meta == QAPI_ARRAY || g_str_has_prefix(name, "q_")) {
        tern_error_fail(errp, "qapi-schema.json: %s: unknown type '%s'", where, name);
        return NULL;
    }
    return array ? array_of(s, t) : t;
}

static QapiMember *find_member(GPtrArray *members, const char *name)
{
    for (guint i = 0; i < members->len; i++) {
        QapiMember *m = members->pdata[i];
        if (strcmp(m->name, name) == 0) {
            return m;
        }
    }
    return NULL;
}

/* Members: {"name": TYPE, "*optional": TYPE, "x": {"type": TYPE, "doc": "..."}}. */
static bool parse_members(QapiSchema *s, JsonNode *node, const char *owner, GPtrArray *out,
                          GError **errp)
{
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        return tern_error_fail(errp, "qapi-schema.json: %s: members must be an object", owner);
    }
    JsonObjectIter it;
    const char *key;
    JsonNode *spec;
    json_object_iter_init_ordered(&it, json_node_get_object(node));
    while (json_object_iter_next_ordered(&it, &key, &spec)) {
        bool optional = key[0] == '*';
        const char *name = key + optional;
        char *where = g_strdup_printf("%s member '%s'", owner, name);
        const char *doc = NULL;
        if (JSON_NODE_HOLDS_OBJECT(spec)) {
            JsonObject *so = json_node_get_object(spec);
            doc = json_object_get_string_member_with_default(so, "doc", NULL);
            spec = json_object_get_member(so, "type");
            if (!spec || json_object_get_size(so) != (doc ? 2u : 1u)) {
                tern_error_fail(
                    errp, "qapi-schema.json: %s: write {\"type\": T, \"doc\": \"...\"}", where);
                g_free(where);
                return false;
            }
        }
        QapiType *type = NULL;
        if (!*name) {
            tern_error_fail(errp, "qapi-schema.json: %s: empty member name", owner);
        } else if (find_member(out, name)) {
            tern_error_fail(errp, "qapi-schema.json: %s: duplicate member", where);
        } else {
            type = resolve_ref(s, spec, where, errp);
        }
        g_free(where);
        if (!type) {
            return false;
        }
        QapiMember *m = g_new0(QapiMember, 1);
        m->name = g_strdup(name);
        m->type = type;
        m->optional = optional;
        m->doc = g_strdup(doc);
        g_ptr_array_add(out, m);
    }
    return true;
}

static bool parse_enum(QapiSchema *s, QapiType *t, JsonObject *o, GError **errp)
{
    JsonNode *v = json_object_get_member(o, "values");
    if (!v || !JSON_NODE_HOLDS_ARRAY(v) || json_array_get_length(json_node_get_array(v)) == 0) {
        return tern_error_fail(
            errp, "qapi-schema.json: enum '%s' needs a non-empty 'values' array", t->name);
    }
    t->values = g_ptr_array_new_with_free_func(g_free);
    JsonArray *a = json_node_get_array(v);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *e = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
            return tern_error_fail(errp, "qapi-schema.json: enum '%s': values must be strings",
                                   t->name);
        }
        const char *val = json_node_get_string(e);
        for (guint k = 0; k < t->values->len; k++) {
            if (strcmp(t->values->pdata[k], val) == 0) {
                return tern_error_fail(
                    errp, "qapi-schema.json: enum '%s': duplicate value '%s'", t->name, val);
            }
        }
        g_ptr_array_add(t->values, g_strdup(val));
    }
    return true;
}

static bool parse_struct(QapiSchema *s, QapiType *t, JsonObject *o, GError **errp)
{
    JsonNode *m = json_object_get_member(o, "members");
    t->members = g_ptr_array_new_with_free_func(member_free);
    if (!m) {
        return tern_error_fail(errp, "qapi-schema.json: struct '%s' needs 'members'", t->name);
    }
    char *owner = g_strdup_printf("struct '%s'", t->name);
    bool ok = parse_members(s, m, owner, t->members, errp);
    g_free(owner);
    return ok;
}

static bool parse_union(QapiSchema *s, QapiType *t, JsonObject *o, GError **errp)
{
    char *owner = g_strdup_printf("union '%s'", t->name);
    JsonNode *base = json_object_get_member(o, "base");
    const char *disc = json_object_get_string_member_with_default(o, "discriminator", NULL);
    JsonNode *data = json_object_get_member(o, "data");
    bool ok = false;

    t->members = g_ptr_array_new_with_free_func(member_free);
    t->variants = g_ptr_array_new_with_free_func(variant_free);
    if (!base || !disc || !data || !JSON_NODE_HOLDS_OBJECT(data)) {
        tern_error_fail(errp, "qapi-schema.json: %s needs 'base', 'discriminator' and 'data'",
                        owner);
        goto out;
    }
    if (!parse_members(s, base, owner, t->members, errp)) {
        goto out;
    }
    t->tag = find_member(t->members, disc);
    if (!t->tag || t->tag->optional || t->tag->type->meta != QAPI_ENUM) {
        tern_error_fail(errp,
                        "qapi-schema.json: %s: discriminator '%s' must be a mandatory enum "
                        "member of the base",
                        owner, disc);
        goto out;
    }
    JsonObjectIter it;
    const char *value;
    JsonNode *ref;
    json_object_iter_init_ordered(&it, json_node_get_object(data));
    while (json_object_iter_next_ordered(&it, &value, &ref)) {
        if (!g_ptr_array_find_with_equal_func(t->tag->type->values, value, g_str_equal, NULL)) {
            tern_error_fail(errp, "qapi-schema.json: %s: '%s' is not a value of %s", owner,
                            value, t->tag->type->name);
            goto out;
        }
        QapiType *vt = resolve_ref(s, ref, owner, errp);
        if (!vt) {
            goto out;
        }
        if (vt->meta != QAPI_STRUCT) {
            tern_error_fail(errp, "qapi-schema.json: %s: variant '%s' must be a struct", owner,
                            value);
            goto out;
        }
        for (guint i = 0; i < vt->members->len; i++) {
            if (find_member(t->members, ((QapiMember *)vt->members->pdata[i])->name)) {
                tern_error_fail(errp,
                                "qapi-schema.json: %s: variant '%s' repeats a base member",
                                owner, value);
                goto out;
            }
        }
        QapiVariant *v = g_new0(QapiVariant, 1);
        v->value = g_strdup(value);
        v->type = vt;
        g_ptr_array_add(t->variants, v);
    }
    ok = true;
out:
    g_free(owner);
    return ok;
}

/* Which JSON value an alternate branch takes; branches must differ in it. */
static int json_category(const QapiType *t)
{
    switch (t->meta) {
    case QAPI_ENUM:
        return 's';
    case QAPI_STRUCT:
    case QAPI_UNION:
        return 'o';
    case QAPI_ARRAY:
        return 'a';
    case QAPI_ALTERNATE:
        return 0;
    case QAPI_BUILTIN:
        break;
    }
    switch (t->builtin) {
    case QAPI_STR:
        return 's';
    case QAPI_BOOL:
        return 'b';
    case QAPI_NULL:
        return 'n';
    case QAPI_ANY:
        return 0;
    default:
        return '0'; /* numbers */
    }
}

static bool parse_alternate(QapiSchema *s, QapiType *t, JsonObject *o, GError **errp)
{
    char *owner = g_strdup_printf("alternate '%s'", t->name);
    JsonNode *data = json_object_get_member(o, "data");
    t->branches = g_ptr_array_new_with_free_func(member_free);
    bool ok = data && parse_members(s, data, owner, t->branches, errp);
    if (data && ok && t->branches->len < 2) {
        ok = tern_error_fail(errp, "qapi-schema.json: %s needs at least two branches", owner);
    }
    for (guint i = 0; ok && i < t->branches->len; i++) {
        QapiMember *b = t->branches->pdata[i];
        int cat = json_category(b->type);
        if (b->optional || cat == 0) {
            ok = tern_error_fail(
                errp,
                "qapi-schema.json: %s: branch '%s' cannot be optional, any or an alternate",
                owner, b->name);
        }
        for (guint k = 0; ok && k < i; k++) {
            if (json_category(((QapiMember *)t->branches->pdata[k])->type) == cat) {
                ok = tern_error_fail(
                    errp,
                    "qapi-schema.json: %s: branch '%s' takes the same JSON type as another",
                    owner, b->name);
            }
        }
    }
    if (!data) {
        ok = tern_error_fail(errp, "qapi-schema.json: %s needs 'data'", owner);
    }
    g_free(owner);
    return ok;
}

typedef bool TypeParser(QapiSchema *s, QapiType *t, JsonObject *o, GError **errp);

static const struct {
    const char *section;
    const char *what;
    QapiMeta meta;
    TypeParser *parse;
    const char *keys[6];
} type_sections[] = {
    {"enums", "enum", QAPI_ENUM, parse_enum, {"name", "doc", "values"}},
    {"structs", "struct", QAPI_STRUCT, parse_struct, {"name", "doc", "members"}},
    {"unions",
     "union",
     QAPI_UNION,
     parse_union,
     {"name", "doc", "base", "discriminator", "data"}},
    {"alternates", "alternate", QAPI_ALTERNATE, parse_alternate, {"name", "doc", "data"}},
};

static JsonArray *section(JsonObject *root, const char *name, GError **errp)
{
    JsonNode *n = json_object_get_member(root, name);
    if (!n) {
        return NULL;
    }
    if (!JSON_NODE_HOLDS_ARRAY(n)) {
        tern_error_fail(errp, "qapi-schema.json: '%s' must be an array", name);
        return NULL;
    }
    return json_node_get_array(n);
}

/* Declare all named types first so members may refer to types defined later. */
static bool parse_types(QapiSchema *s, JsonObject *root, GError **errp)
{
    for (int pass = 0; pass < 2; pass++) {
        for (guint k = 0; k < G_N_ELEMENTS(type_sections); k++) {
            GError *err = NULL;
            JsonArray *a = section(root, type_sections[k].section, &err);
            if (err) {
                g_propagate_error(errp, err);
                return false;
            }
            for (guint i = 0; a && i < json_array_get_length(a); i++) {
                JsonNode *n = json_array_get_element(a, i);
                const char *name, *doc;
                if (!entity_header(n, type_sections[k].what, type_sections[k].keys, &name, &doc,
                                   errp)) {
                    return false;
                }
                if (pass == 0) {
                    if (g_hash_table_contains(s->types, name) || name[0] == '[' ||
                        g_str_has_prefix(name, "q_")) {
                        return tern_error_fail(
                            errp, "qapi-schema.json: type name '%s' is taken or reserved",
                            name);
                    }
                    type_new(s, name, type_sections[k].meta)->doc = g_strdup(doc);
                } else if (!type_sections[k].parse(s, g_hash_table_lookup(s->types, name),
                                                   json_node_get_object(n), errp)) {
                    return false;
                }
            }
        }
    }
    return true;
}

/* "data" of a command or event: absent, a struct's name, or inline members. */
/* `boxed`: the command takes a union's members as its arguments (QEMU's 'boxed': true). */
static QapiType *parse_data(QapiSchema *s, JsonNode *data, const char *entity, const char *what,
                            bool boxed, GError **errp)
{
    char *owner = g_strdup_printf("%s '%s'", what, entity);
    QapiType *t = NULL;
    if (JSON_NODE_HOLDS_OBJECT(data)) {
        char *name = g_strdup_printf("q_obj_%s-arg", entity);
        t = type_new(s, name, QAPI_STRUCT);
        t->members = g_ptr_array_new_with_free_func(member_free);
        g_free(name);
        if (!parse_members(s, data, owner, t->members, errp)) {
            t = NULL;
        }
    } else if ((t = resolve_ref(s, data, owner, errp)) && t->meta != QAPI_STRUCT &&
               !(boxed && t->meta == QAPI_UNION)) {
        tern_error_fail(errp,
                        "qapi-schema.json: %s: 'data' must name a struct (or, boxed, a union) "
                        "or list members",
                        owner);
        t = NULL;
    }
    g_free(owner);
    return t;
}

static bool parse_commands(QapiSchema *s, JsonObject *root, GError **errp)
{
    static const char *const keys[] = {"name", "doc", "data", "returns", "boxed", "gen", NULL};
    GError *err = NULL;
    JsonArray *a = section(root, "commands", &err);
    if (err) {
        g_propagate_error(errp, err);
        return false;
    }
    QapiType *empty = g_hash_table_lookup(s->types, "q_empty");
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *n = json_array_get_element(a, i);
        const char *name, *doc;
        if (!entity_header(n, "command", keys, &name, &doc, errp)) {
            return false;
        }
        if (g_hash_table_contains(s->commands, name)) {
            return tern_error_fail(errp, "qapi-schema.json: command '%s' is declared twice",
                                   name);
        }
        JsonObject *o = json_node_get_object(n);
        QapiCommand *c = g_new0(QapiCommand, 1);
        c->name = g_strdup(name);
        c->doc = g_strdup(doc);
        g_ptr_array_add(s->command_list, c);
        g_hash_table_insert(s->commands, c->name, c);
        JsonNode *data = json_object_get_member(o, "data");
        JsonNode *ret = json_object_get_member(o, "returns");
        bool boxed = json_object_get_boolean_member_with_default(o, "boxed", FALSE);
        /* 'gen': false (QEMU's device_add): the declared members are checked, the
         * handler takes the rest itself. */
        c->open_args = !json_object_get_boolean_member_with_default(o, "gen", TRUE);
        c->args = data ? parse_data(s, data, name, "command", boxed, errp) : empty;
        if (!c->args) {
            return false;
        }
        if (ret) {
            char *where = g_strdup_printf("command '%s' returns", name);
            c->ret = resolve_ref(s, ret, where, errp);
            g_free(where);
            if (!c->ret) {
                return false;
            }
        }
    }
    return true;
}

static bool parse_events(QapiSchema *s, JsonObject *root, GError **errp)
{
    static const char *const keys[] = {"name", "doc", "data", NULL};
    GError *err = NULL;
    JsonArray *a = section(root, "events", &err);
    if (err) {
        g_propagate_error(errp, err);
        return false;
    }
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *n = json_array_get_element(a, i);
        const char *name, *doc;
        if (!entity_header(n, "event", keys, &name, &doc, errp)) {
            return false;
        }
        if (g_hash_table_contains(s->events, name)) {
            return tern_error_fail(errp, "qapi-schema.json: event '%s' is declared twice",
                                   name);
        }
        for (const char *p = name; *p; p++) {
            if (!g_ascii_isupper(*p) && !g_ascii_isdigit(*p) && *p != '_') {
                return tern_error_fail(
                    errp, "qapi-schema.json: event '%s': event names are UPPER_CASE", name);
            }
        }
        QapiEvent *e = g_new0(QapiEvent, 1);
        e->name = g_strdup(name);
        e->doc = g_strdup(doc);
        g_ptr_array_add(s->event_list, e);
        g_hash_table_insert(s->events, e->name, e);
        JsonNode *data = json_object_get_member(json_node_get_object(n), "data");
        if (data && !(e->data = parse_data(s, data, name, "event", false, errp))) {
            return false;
        }
    }
    return true;
}

QapiSchema *qapi_schema_parse(const char *json, gsize len, GError **errp)
{
    static const char *const sections[] = {"doc",        "enums",    "structs", "unions",
                                           "alternates", "commands", "events",  NULL};
    QapiSchema *s = g_new0(QapiSchema, 1);
    s->types = g_hash_table_new(g_str_hash, g_str_equal);
    s->all_types = g_ptr_array_new_with_free_func(type_free);
    s->commands = g_hash_table_new(g_str_hash, g_str_equal);
    s->command_list = g_ptr_array_new_with_free_func(command_free);
    s->events = g_hash_table_new(g_str_hash, g_str_equal);
    s->event_list = g_ptr_array_new_with_free_func(event_free);
    for (guint i = 0; i < G_N_ELEMENTS(builtins); i++) {
        type_new(s, builtins[i].name, QAPI_BUILTIN)->builtin = builtins[i].kind;
    }
    type_new(s, "q_empty", QAPI_STRUCT)->members = g_ptr_array_new();

    JsonParser *parser = json_parser_new();
    GError *err = NULL;
    bool ok = false;
    if (!json_parser_load_from_data(parser, json, len, &err)) {
        tern_error_fail(errp, "qapi-schema.json: %s", err->message);
        g_error_free(err);
        goto out;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        tern_error_fail(errp, "qapi-schema.json: the schema must be a JSON object");
        goto out;
    }
    JsonObjectIter it;
    const char *key;
    json_object_iter_init(&it, json_node_get_object(root));
    while (json_object_iter_next(&it, &key, NULL)) {
        if (!g_strv_contains(sections, key)) {
            tern_error_fail(errp, "qapi-schema.json: unknown section '%s'", key);
            goto out;
        }
    }
    ok = parse_types(s, json_node_get_object(root), errp) &&
         parse_commands(s, json_node_get_object(root), errp) &&
         parse_events(s, json_node_get_object(root), errp);
out:
    g_object_unref(parser);
    if (!ok) {
        qapi_schema_free(s);
        return NULL;
    }
    return s;
}

QapiSchema *qapi_schema_get(GError **errp)
{
    static GMutex lock;
    static QapiSchema *schema;
    static GError *load_error;

    g_mutex_lock(&lock);
    if (!schema && !load_error) {
        GBytes *b = g_resources_lookup_data(SCHEMA_RESOURCE, 0, &load_error);
        if (b) {
            gsize len;
            const char *text = g_bytes_get_data(b, &len);
            schema = qapi_schema_parse(text, len, &load_error);
            g_bytes_unref(b);
        }
    }
    if (!schema) {
        g_propagate_error(errp, g_error_copy(load_error));
    }
    g_mutex_unlock(&lock);
    return schema;
}

QapiSchema *qapi_schema(void)
{
    GError *err = NULL;
    QapiSchema *s = qapi_schema_get(&err);
    if (!s) {
        g_error("the embedded QMP schema is broken: %s", err->message);
    }
    return s;
}

const QapiCommand *qapi_schema_command(QapiSchema *s, const char *name)
{
    return g_hash_table_lookup(s->commands, name);
}

const QapiEvent *qapi_schema_event(QapiSchema *s, const char *name)
{
    return g_hash_table_lookup(s->events, name);
}

QapiType *qapi_schema_type(QapiSchema *s, const char *name)
{
    return g_hash_table_lookup(s->types, name);
}

GPtrArray *qapi_schema_commands(QapiSchema *s)
{
    return s->command_list;
}

GPtrArray *qapi_schema_events(QapiSchema *s)
{
    return s->event_list;
}
