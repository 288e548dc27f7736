import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod's mini build has no messages of its own: its default would say "Invalid input" where
// the full build names the unknown key. The English locale alone keeps the messages users
// see the same whichever build a schema uses.
config(en());
