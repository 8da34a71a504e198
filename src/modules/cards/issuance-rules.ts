// Rules for physical cards from seed 003: a delivery address is required for physical cards and
// forbidden for virtual ones; US addresses need a state and a 4–10 character postal code; US card
// holders must accept the terms and the e-disclosure.
import { unprocessable } from '../../platform/errors.ts';
import type { CardHolderRow } from '../card-holders/card-holders.service.ts';
import type { CreateCardBody } from './cards.schemas.ts';

const US_POSTAL_CODE = /^[a-zA-Z0-9\- ]{4,10}$/;

export function checkPhysicalCard(body: CreateCardBody, holder: CardHolderRow | null) {
  if (body.type === 'virtual') {
    if (body.deliveryAddress) throw unprocessable('validation_failed', 'A virtual card has no delivery address.', 'deliveryAddress');
    return;
  }
  if (body.status === 'locked') throw unprocessable('validation_failed', 'A physical card starts as issued; lock it after activation.', 'status');
  const address = body.deliveryAddress;
  if (!address) throw unprocessable('validation_failed', 'A physical card needs a deliveryAddress.', 'deliveryAddress');
  if (address.countryCode === 'US') {
    if (!address.state) throw unprocessable('validation_failed', 'state is required for US delivery addresses.', 'deliveryAddress.state');
    if (!US_POSTAL_CODE.test(address.postalCode)) {
      throw unprocessable('validation_failed', 'A US postal code has 4–10 letters, digits, hyphens or spaces.', 'deliveryAddress.postalCode');
    }
  }
  if (holder?.country === 'US') {
    if (body.termsAndConditionsAccepted !== true) throw unprocessable('terms_not_accepted', 'US card holders must accept the terms and conditions.', 'termsAndConditionsAccepted');
    if (body.eDisclosureAccepted !== true) throw unprocessable('terms_not_accepted', 'US card holders must accept the e-disclosure.', 'eDisclosureAccepted');
  }
}
