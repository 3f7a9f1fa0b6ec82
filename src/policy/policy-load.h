/* Reading the `policy:` section of the configuration file; errors name file:line:column. */
#ifndef P11G_POLICY_LOAD_H
#define P11G_POLICY_LOAD_H

#include "policy.h"
#include "yaml-walk.h"

int policy_parse(struct ywalk *w, yaml_node_t *n, struct policy **out) WUR;

#endif
