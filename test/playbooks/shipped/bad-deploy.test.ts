import { shippedPlaybookTests } from '../shipped-playbook-tests.ts';

shippedPlaybookTests('bad-deploy.test.yaml');
