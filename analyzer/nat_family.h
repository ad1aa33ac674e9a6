/* Naming the hypervisor NAT family from the guest capture's fingerprints (nat_family.c). */
#ifndef TTLSLEUTH_NAT_FAMILY_H
#define TTLSLEUTH_NAT_FAMILY_H

#include "analyzer/model.h"

/* Sets cm->nat_family and adds a nat.family finding when the evidence names one. */
void nat_family_guess(struct case_model *cm, uint32_t guest);

#endif
