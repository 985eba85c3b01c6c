#!/usr/bin/env node
import { notBuiltYet } from '../not-built.js';

notBuiltYet('db_dump');
